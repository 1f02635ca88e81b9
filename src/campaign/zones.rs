//! A callee's time zones from their number: NANP numbers (`+1`) by area code (see
//! [`super::nanp`]), numbers of other countries with several zones (Russia, Australia,
//! Brazil, Mexico, …) by national prefix, or every zone of the country when the prefix does
//! not tell (see [`super::zone_prefixes`]), other numbers by country where the country keeps
//! one zone. A number of no known country gives none, and the outplan's default zone applies.
//! Pure; run when a target is imported, not per dial: the zones are stored with the target.

use super::nanp::AREA_CODES;
use super::zone_prefixes;
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
    ("OM", "Asia/Muscat"),
    ("PA", "America/Panama"),
    ("PE", "America/Lima"),
    ("PH", "Asia/Manila"),
    ("PK", "Asia/Karachi"),
    ("PL", "Europe/Warsaw"),
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
    names
        .split('|')
        .filter_map(|n| n.trim().parse().ok())
        .collect()
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

/// The zones a number is in: by area code for `+1`, by national prefix in the other countries
/// with several zones, by country elsewhere; empty when unknown.
pub fn of_number(number: &E164) -> Vec<Tz> {
    if number.as_str().starts_with("+1") {
        return nanp_area_code(number)
            .and_then(|npa| nanp().get(&npa).cloned())
            .unwrap_or_default();
    }
    let digits = number.as_str().trim_start_matches('+');
    if let Some(zones) = zone_prefixes::zones_of(digits) {
        return parse_zones(zones);
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
    }

    /// The zones of a number, as IANA names.
    fn names(n: &str) -> Vec<&'static str> {
        zones(n).iter().map(|z| z.name()).collect()
    }

    #[test]
    fn every_zone_of_the_multi_zone_table_exists_and_no_prefix_is_listed_twice() {
        for country in zone_prefixes::COUNTRIES {
            let mut seen = std::collections::HashSet::new();
            let all: Vec<&str> = country.all.split('|').map(str::trim).collect();
            assert!(all.len() > 1, "+{} keeps one zone", country.code);
            for (prefix, names) in
                std::iter::once(("", country.all)).chain(country.prefixes.iter().copied())
            {
                assert!(
                    seen.insert(prefix),
                    "+{} {prefix} listed twice",
                    country.code
                );
                assert!(prefix.bytes().all(|b| b.is_ascii_digit()), "{prefix}");
                for name in names.split('|').map(str::trim) {
                    assert!(name.parse::<Tz>().is_ok(), "{name}");
                    // Australia's external territories share its code but not its zones.
                    let territory = ["Indian/Cocos", "Indian/Christmas"].contains(&name);
                    assert!(
                        all.contains(&name) || territory,
                        "+{} {prefix}: {name}",
                        country.code
                    );
                }
            }
            // No single-zone entry shadows it.
            assert!(
                !COUNTRIES.iter().any(|(_, z)| all.contains(z)),
                "+{}",
                country.code
            );
        }
        // Calling codes are prefix-free.
        for a in zone_prefixes::COUNTRIES {
            for b in zone_prefixes::COUNTRIES {
                assert!(a.code == b.code || !b.code.starts_with(a.code));
            }
        }
    }

    #[test]
    fn australian_numbers_take_their_states_zones_and_mobiles_all_of_australias() {
        assert_eq!(names("+61291234567"), ["Australia/Sydney"]);
        assert_eq!(names("+61265631234"), ["Australia/Lord_Howe"]);
        assert_eq!(
            names("+61391234567"),
            ["Australia/Melbourne", "Australia/Hobart"]
        );
        assert_eq!(
            names("+61731234567"),
            ["Australia/Brisbane", "Australia/Sydney"]
        );
        let west = names("+61892345678");
        assert!(west.contains(&"Australia/Perth") && west.contains(&"Australia/Adelaide"));
        assert!(!west.contains(&"Australia/Sydney"), "{west:?}");
        assert_eq!(names("+61891641234"), ["Indian/Christmas"]);
        let mobile = names("+61412345678");
        assert_eq!(mobile.len(), 10, "{mobile:?}");
        assert!(mobile.contains(&"Australia/Perth") && mobile.contains(&"Australia/Lord_Howe"));
    }

    #[test]
    fn russian_numbers_take_their_abc_codes_zone_and_mobiles_every_zone() {
        assert_eq!(names("+74951234567"), ["Europe/Moscow"]);
        assert_eq!(names("+78121234567"), ["Europe/Moscow"]);
        assert_eq!(names("+74012123456"), ["Europe/Kaliningrad"]);
        assert_eq!(names("+73432123456"), ["Asia/Yekaterinburg"]);
        assert_eq!(names("+73832123456"), ["Asia/Novosibirsk"]);
        assert_eq!(names("+74232123456"), ["Asia/Vladivostok"]);
        assert_eq!(names("+74152123456"), ["Asia/Kamchatka"]);
        assert_eq!(names("+78462123456"), ["Europe/Samara"]);
        let mobile = names("+79161234567");
        assert!(mobile.contains(&"Europe/Kaliningrad") && mobile.contains(&"Asia/Anadyr"));
        assert!(!mobile.contains(&"Asia/Almaty"), "{mobile:?}");
        assert_eq!(names("+73512123456").len(), 1);
        // An ABC code not in the table: every zone of Russia.
        assert_eq!(names("+73000123456").len(), mobile.len());
    }

    #[test]
    fn kazakh_numbers_share_plus_7_and_take_kazakhstans_zones() {
        let almaty = names("+77272123456");
        assert!(almaty.contains(&"Asia/Almaty"), "{almaty:?}");
        assert!(!almaty.contains(&"Europe/Moscow"), "{almaty:?}");
        assert_eq!(names("+77011234567"), almaty);
    }

    #[test]
    fn brazilian_numbers_take_their_ddds_zone() {
        assert_eq!(names("+5511912345678"), ["America/Sao_Paulo"]);
        assert_eq!(names("+552131234567"), ["America/Sao_Paulo"]);
        assert_eq!(names("+5592991234567"), ["America/Manaus"]);
        assert_eq!(names("+556832123456"), ["America/Rio_Branco"]);
        assert_eq!(names("+556532123456"), ["America/Cuiaba"]);
        assert_eq!(
            names("+558136191234"),
            ["America/Recife", "America/Noronha"]
        );
        assert_eq!(names("+558532123456"), ["America/Fortaleza"]);
        assert_eq!(
            names("+559732123456"),
            ["America/Manaus", "America/Eirunepe"]
        );
    }

    #[test]
    fn mexican_numbers_take_their_area_codes_zone() {
        assert_eq!(names("+525512345678"), ["America/Mexico_City"]);
        assert_eq!(names("+528112345678"), ["America/Monterrey"]);
        assert_eq!(names("+526641234567"), ["America/Tijuana"]);
        assert_eq!(names("+526621234567"), ["America/Hermosillo"]);
        assert_eq!(names("+529981234567"), ["America/Cancun"]);
        assert_eq!(names("+526561234567"), ["America/Ciudad_Juarez"]);
        // An area code not in the table: every zone of Mexico.
        assert_eq!(names("+527331234567").len(), 12);
    }

    #[test]
    fn indonesian_numbers_take_their_area_codes_zone_and_mobiles_all_four() {
        assert_eq!(names("+62211234567"), ["Asia/Jakarta"]);
        assert_eq!(names("+62361123456"), ["Asia/Makassar"]);
        assert_eq!(names("+62411123456"), ["Asia/Makassar"]);
        assert_eq!(names("+62561123456"), ["Asia/Pontianak"]);
        // South Kalimantan on WITA; Kuala Kapuas (513), in Central Kalimantan, on WIB.
        assert_eq!(names("+62511123456"), ["Asia/Makassar"]);
        assert_eq!(names("+62513123456"), ["Asia/Pontianak"]);
        assert_eq!(names("+62519123456"), ["Asia/Pontianak"]);
        assert_eq!(names("+62967123456"), ["Asia/Jayapura"]);
        assert_eq!(
            names("+628121234567"),
            [
                "Asia/Jakarta",
                "Asia/Pontianak",
                "Asia/Makassar",
                "Asia/Jayapura"
            ]
        );
    }

    #[test]
    fn chilean_numbers_tell_magallanes_aysen_and_easter_island() {
        assert_eq!(names("+56221234567"), ["America/Santiago"]);
        assert_eq!(names("+56612123456"), ["America/Punta_Arenas"]);
        assert_eq!(names("+56672123456"), ["America/Coyhaique"]);
        assert_eq!(
            names("+56322100123"),
            ["America/Santiago", "Pacific/Easter"]
        );
        assert_eq!(names("+56912345678").len(), 4);
    }

    #[test]
    fn iberian_numbers_tell_the_islands() {
        assert_eq!(names("+34912345678"), ["Europe/Madrid"]);
        assert_eq!(names("+34928123456"), ["Atlantic/Canary"]);
        assert_eq!(names("+34922123456"), ["Atlantic/Canary"]);
        assert_eq!(names("+34612345678"), ["Europe/Madrid", "Atlantic/Canary"]);
        assert_eq!(names("+351213456789"), ["Europe/Lisbon"]);
        assert_eq!(names("+351291123456"), ["Atlantic/Madeira"]);
        assert_eq!(names("+351296123456"), ["Atlantic/Azores"]);
        assert_eq!(
            names("+351912345678"),
            ["Europe/Lisbon", "Atlantic/Madeira", "Atlantic/Azores"]
        );
    }

    #[test]
    fn island_zones_of_ecuador_and_new_zealand_and_the_pacific() {
        assert_eq!(names("+59322123456"), ["America/Guayaquil"]);
        assert_eq!(
            names("+59352526123"),
            ["America/Guayaquil", "Pacific/Galapagos"]
        );
        assert_eq!(names("+59391234567").len(), 2);
        assert_eq!(names("+6493071234"), ["Pacific/Auckland"]);
        assert_eq!(names("+6433051234"), ["Pacific/Chatham"]);
        assert_eq!(
            names("+64211234567"),
            ["Pacific/Auckland", "Pacific/Chatham"]
        );
        assert_eq!(names("+6863001234").len(), 3);
        assert_eq!(names("+6913201234").len(), 3);
        assert_eq!(names("+68940123456").len(), 3);
        assert_eq!(names("+262262123456"), ["Indian/Reunion"]);
        assert_eq!(names("+262639123456"), ["Indian/Mayotte"]);
    }

    #[test]
    fn the_congo_and_mongolia_take_all_their_zones_but_ulaanbaatar() {
        assert_eq!(
            names("+243812345678"),
            ["Africa/Kinshasa", "Africa/Lubumbashi"]
        );
        assert_eq!(names("+97611123456"), ["Asia/Ulaanbaatar"]);
        assert_eq!(names("+97699123456"), ["Asia/Ulaanbaatar", "Asia/Hovd"]);
    }

    #[test]
    fn a_mobile_of_a_multi_zone_country_is_open_only_when_all_its_zones_are() {
        use crate::campaign::window::{is_open, next_opening};
        use chrono::{TimeZone, Utc};
        let window: crate::domain::CallWindow =
            serde_json::from_value(serde_json::json!({"start": "09:00", "end": "21:00"}))
                .expect("a window");
        let mobile = zones("+61412345678");
        let sydney = zones("+61291234567");
        // 23:30 UTC on 9 June: 09:30 in Sydney, 07:30 in Perth.
        let now = Utc
            .with_ymd_and_hms(2026, 6, 9, 23, 30, 0)
            .single()
            .expect("a time");
        assert!(is_open(&window, &sydney, now));
        assert!(!is_open(&window, &mobile, now));
        // It opens at 09:00 in Perth, the last of them (01:00 UTC).
        assert_eq!(
            next_opening(&window, &mobile, now),
            Utc.with_ymd_and_hms(2026, 6, 10, 1, 0, 0).single()
        );
    }
}
