//! A callee's time zones from their number: NANP numbers (`+1`) by area code (see
//! [`super::nanp`]), other numbers by country where the country keeps one zone. A number of a
//! country with several zones (Russia, Australia, Brazil, Mexico, …) or of no country gives
//! none, and the outplan's default zone applies. Pure; run when a target is imported, not per
//! dial: the zones are stored with the target.

use super::nanp::AREA_CODES;
use crate::domain::E164;
use chrono_tz::Tz;
use std::collections::HashMap;
use std::sync::OnceLock;

/// Countries (ISO 3166 codes) that keep a single zone, and that zone.
const COUNTRIES: &[(&str, &str)] = &[
    ("AE", "Asia/Dubai"),
    ("AR", "America/Argentina/Buenos_Aires"),
    ("AT", "Europe/Vienna"),
    ("BD", "Asia/Dhaka"),
    ("BE", "Europe/Brussels"),
    ("BG", "Europe/Sofia"),
    ("BH", "Asia/Bahrain"),
    ("CH", "Europe/Zurich"),
    ("CN", "Asia/Shanghai"),
    ("CO", "America/Bogota"),
    ("CR", "America/Costa_Rica"),
    ("CY", "Asia/Nicosia"),
    ("CZ", "Europe/Prague"),
    ("DE", "Europe/Berlin"),
    ("DK", "Europe/Copenhagen"),
    ("DZ", "Africa/Algiers"),
    ("EE", "Europe/Tallinn"),
    ("EG", "Africa/Cairo"),
    ("ES", "Europe/Madrid"),
    ("FI", "Europe/Helsinki"),
    ("FR", "Europe/Paris"),
    ("GB", "Europe/London"),
    ("GG", "Europe/Guernsey"),
    ("GH", "Africa/Accra"),
    ("GR", "Europe/Athens"),
    ("GT", "America/Guatemala"),
    ("HK", "Asia/Hong_Kong"),
    ("HR", "Europe/Zagreb"),
    ("HU", "Europe/Budapest"),
    ("IE", "Europe/Dublin"),
    ("IL", "Asia/Jerusalem"),
    ("IM", "Europe/Isle_of_Man"),
    ("IN", "Asia/Kolkata"),
    ("IS", "Atlantic/Reykjavik"),
    ("IT", "Europe/Rome"),
    ("JE", "Europe/Jersey"),
    ("JM", "America/Jamaica"),
    ("JO", "Asia/Amman"),
    ("JP", "Asia/Tokyo"),
    ("KE", "Africa/Nairobi"),
    ("KR", "Asia/Seoul"),
    ("KW", "Asia/Kuwait"),
    ("LB", "Asia/Beirut"),
    ("LK", "Asia/Colombo"),
    ("LT", "Europe/Vilnius"),
    ("LU", "Europe/Luxembourg"),
    ("LV", "Europe/Riga"),
    ("MA", "Africa/Casablanca"),
    ("MT", "Europe/Malta"),
    ("MY", "Asia/Kuala_Lumpur"),
    ("NG", "Africa/Lagos"),
    ("NL", "Europe/Amsterdam"),
    ("NO", "Europe/Oslo"),
    ("NP", "Asia/Kathmandu"),
    ("NZ", "Pacific/Auckland"),
    ("OM", "Asia/Muscat"),
    ("PA", "America/Panama"),
    ("PE", "America/Lima"),
    ("PH", "Asia/Manila"),
    ("PK", "Asia/Karachi"),
    ("PL", "Europe/Warsaw"),
    ("PT", "Europe/Lisbon"),
    ("QA", "Asia/Qatar"),
    ("RO", "Europe/Bucharest"),
    ("RS", "Europe/Belgrade"),
    ("SA", "Asia/Riyadh"),
    ("SE", "Europe/Stockholm"),
    ("SG", "Asia/Singapore"),
    ("SI", "Europe/Ljubljana"),
    ("SK", "Europe/Bratislava"),
    ("SV", "America/El_Salvador"),
    ("TH", "Asia/Bangkok"),
    ("TN", "Africa/Tunis"),
    ("TR", "Europe/Istanbul"),
    ("TW", "Asia/Taipei"),
    ("UA", "Europe/Kyiv"),
    ("UY", "America/Montevideo"),
    ("VE", "America/Caracas"),
    ("VN", "Asia/Ho_Chi_Minh"),
    ("ZA", "Africa/Johannesburg"),
];

fn parse_zones(names: &str) -> Vec<Tz> {
    // The tables are checked by the tests below: a name that does not parse is a bug there.
    names.split('|').filter_map(|n| n.parse().ok()).collect()
}

fn nanp() -> &'static HashMap<u16, Vec<Tz>> {
    static TABLE: OnceLock<HashMap<u16, Vec<Tz>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        AREA_CODES
            .iter()
            .flat_map(|(zones, codes)| {
                let zones = parse_zones(zones);
                codes.iter().map(move |&c| (c, zones.clone()))
            })
            .collect()
    })
}

/// The area code of a NANP number (`+1NPA…`).
pub fn nanp_area_code(number: &E164) -> Option<u16> {
    let digits = number.as_str().strip_prefix("+1")?;
    if digits.len() != 10 {
        return None;
    }
    digits.get(..3)?.parse().ok()
}

/// The zones a number is in: by area code for `+1`, by country elsewhere; empty when unknown.
pub fn of_number(number: &E164) -> Vec<Tz> {
    if number.as_str().starts_with("+1") {
        return nanp_area_code(number)
            .and_then(|npa| nanp().get(&npa).cloned())
            .unwrap_or_default();
    }
    let Ok(parsed) = phonenumber::parse(None, number.as_str()) else {
        return Vec::new();
    };
    let Some(country) = parsed.country().id() else {
        return Vec::new();
    };
    let iso: &str = country.as_ref();
    COUNTRIES
        .iter()
        .find(|(c, _)| *c == iso)
        .map(|(_, zone)| parse_zones(zone))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::America;

    fn zones(n: &str) -> Vec<Tz> {
        of_number(&E164::parse(n).expect("E.164"))
    }

    #[test]
    fn every_zone_named_in_the_tables_exists_and_no_area_code_is_listed_twice() {
        let mut seen = std::collections::HashSet::new();
        for (names, codes) in AREA_CODES {
            for name in names.split('|') {
                assert!(name.parse::<Tz>().is_ok(), "{name}");
            }
            for c in *codes {
                assert!((200..1000).contains(c), "{c}");
                assert!(seen.insert(*c), "area code {c} listed twice");
            }
        }
        assert!(seen.len() > 380, "{} area codes", seen.len());
        for (_, name) in COUNTRIES {
            assert!(name.parse::<Tz>().is_ok(), "{name}");
        }
    }

    #[test]
    fn nanp_numbers_take_their_area_codes_zones() {
        assert_eq!(zones("+12125550100"), vec![America::New_York]);
        assert_eq!(zones("+13125550100"), vec![America::Chicago]);
        assert_eq!(zones("+13035550100"), vec![America::Denver]);
        assert_eq!(zones("+16025550100"), vec![America::Phoenix]);
        assert_eq!(zones("+14155550100"), vec![America::Los_Angeles]);
        assert_eq!(zones("+14165550100"), vec![America::Toronto]);
        assert_eq!(
            zones("+17095550100"),
            vec![America::St_Johns, America::Goose_Bay]
        );
        assert_eq!(
            zones("+18505550100"),
            vec![America::Chicago, America::New_York]
        );
        assert_eq!(
            zones("+16055550100"),
            vec![America::Chicago, America::Denver]
        );
        assert_eq!(zones("+17875550100"), vec![America::Puerto_Rico]);
        // Toll-free and unassigned codes have no zone.
        assert_eq!(zones("+18005550100"), vec![]);
        assert_eq!(zones("+15555550100"), vec![]);
    }

    #[test]
    fn other_numbers_take_their_countrys_zone_when_it_has_one() {
        assert_eq!(zones("+442079460958"), vec![chrono_tz::Europe::London]);
        assert_eq!(zones("+33142685300"), vec![chrono_tz::Europe::Paris]);
        assert_eq!(zones("+919876543210"), vec![chrono_tz::Asia::Kolkata]);
        // Australia keeps several zones: none derived.
        assert_eq!(zones("+61291234567"), vec![]);
    }
}
