//! Countries outside NANP that keep several time zones, and the zones of their numbers by
//! national prefix, from their national numbering plans (published by each country's
//! regulator) and the IANA time zone database. The longest listed prefix of a number's
//! national significant number gives its zones; a number whose prefix is not listed (a mobile
//! range, which moves with its owner, or a geographic code not in the table) takes every zone
//! of its country, so that a call window must be open in all of them. Prefixes are listed
//! only where they tell the zone reliably; a geographic code spanning a zone line lists every
//! zone it reaches.

/// A country calling code (digits, no `+`), the zones of the whole country (IANA names joined
/// by `|`), and national prefixes with their zones.
pub struct MultiZone {
    /// The country calling code.
    pub code: &'static str,
    /// Every zone of the country: the zones of a number whose prefix is not listed.
    pub all: &'static str,
    /// National prefixes (after the calling code, no trunk prefix) and their zones.
    pub prefixes: &'static [(&'static str, &'static str)],
}

const AU_ALL: &str = "Australia/Perth|Australia/Eucla|Australia/Darwin|Australia/Adelaide|\
Australia/Broken_Hill|Australia/Brisbane|Australia/Sydney|Australia/Melbourne|\
Australia/Hobart|Australia/Lord_Howe";

const RU_ALL: &str = "Europe/Kaliningrad|Europe/Moscow|Europe/Kirov|Europe/Volgograd|\
Europe/Samara|Europe/Astrakhan|Europe/Saratov|Europe/Ulyanovsk|Asia/Yekaterinburg|Asia/Omsk|\
Asia/Novosibirsk|Asia/Barnaul|Asia/Tomsk|Asia/Novokuznetsk|Asia/Krasnoyarsk|Asia/Irkutsk|\
Asia/Chita|Asia/Yakutsk|Asia/Khandyga|Asia/Vladivostok|Asia/Ust-Nera|Asia/Magadan|\
Asia/Sakhalin|Asia/Srednekolymsk|Asia/Kamchatka|Asia/Anadyr";

// Kazakhstan keeps one offset (+05) since March 2024; the database still names its regions.
const KZ_ALL: &str = "Asia/Almaty|Asia/Qostanay|Asia/Qyzylorda|Asia/Aqtobe|Asia/Aqtau|\
Asia/Atyrau|Asia/Oral";

const MOSCOW: &str = "Europe/Moscow";

/// The table. Calling codes are prefix-free, so at most one entry matches a number.
pub const COUNTRIES: &[MultiZone] = &[
    // Australia: 2 NSW and ACT (Lord Howe Island 2 6563), 3 Victoria and Tasmania,
    // 7 Queensland (and Tweed Heads, NSW), 8 SA, WA, NT and Broken Hill (Christmas Island
    // 8 9164, Cocos Islands 8 9162, external territories in zones of their own); 4 and 5
    // mobile and personal numbers, 1 non-geographic: every zone of Australia proper.
    MultiZone {
        code: "61",
        all: AU_ALL,
        prefixes: &[
            ("2", "Australia/Sydney"),
            ("26563", "Australia/Lord_Howe"),
            ("3", "Australia/Melbourne|Australia/Hobart"),
            ("7", "Australia/Brisbane|Australia/Sydney"),
            (
                "8",
                "Australia/Perth|Australia/Eucla|Australia/Darwin|Australia/Adelaide|\
                 Australia/Broken_Hill",
            ),
            ("89162", "Indian/Cocos"),
            ("89164", "Indian/Christmas"),
        ],
    },
    // Russia (first digit 3, 4, 8: geographic ABC codes; 9: mobile DEF codes) and Kazakhstan
    // (6, 7) share +7.
    MultiZone {
        code: "7",
        all: "Europe/Kaliningrad|Europe/Moscow|Europe/Kirov|Europe/Volgograd|Europe/Samara|\
              Europe/Astrakhan|Europe/Saratov|Europe/Ulyanovsk|Asia/Yekaterinburg|Asia/Omsk|\
              Asia/Novosibirsk|Asia/Barnaul|Asia/Tomsk|Asia/Novokuznetsk|Asia/Krasnoyarsk|\
              Asia/Irkutsk|Asia/Chita|Asia/Yakutsk|Asia/Khandyga|Asia/Vladivostok|\
              Asia/Ust-Nera|Asia/Magadan|Asia/Sakhalin|Asia/Srednekolymsk|Asia/Kamchatka|\
              Asia/Anadyr|Asia/Almaty|Asia/Qostanay|Asia/Qyzylorda|Asia/Aqtobe|Asia/Aqtau|\
              Asia/Atyrau|Asia/Oral",
        prefixes: &[
            ("3", RU_ALL),
            ("4", RU_ALL),
            ("8", RU_ALL),
            ("9", RU_ALL),
            ("6", KZ_ALL),
            ("7", KZ_ALL),
            // Kaliningrad.
            ("401", "Europe/Kaliningrad"),
            // Moscow time: Moscow and its region, St Petersburg, the centre, north-west,
            // Volga (but Samara, Saratov, Ulyanovsk, Astrakhan, Udmurtia) and the south.
            ("495", MOSCOW),
            ("496", MOSCOW),
            ("498", MOSCOW),
            ("499", MOSCOW),
            ("812", MOSCOW),
            ("811", MOSCOW),
            ("813", MOSCOW),
            ("814", MOSCOW),
            ("815", MOSCOW),
            ("816", MOSCOW),
            ("817", MOSCOW),
            ("818", MOSCOW),
            ("820", MOSCOW),
            ("821", MOSCOW),
            ("831", MOSCOW),
            ("833", "Europe/Kirov"),
            ("834", MOSCOW),
            ("835", MOSCOW),
            ("836", MOSCOW),
            ("841", MOSCOW),
            ("843", MOSCOW),
            ("844", "Europe/Volgograd"),
            ("847", MOSCOW),
            ("855", MOSCOW),
            ("861", MOSCOW),
            ("862", MOSCOW),
            ("863", MOSCOW),
            ("865", MOSCOW),
            ("866", MOSCOW),
            ("867", MOSCOW),
            ("871", MOSCOW),
            ("872", MOSCOW),
            ("873", MOSCOW),
            ("877", MOSCOW),
            ("878", MOSCOW),
            ("879", MOSCOW),
            ("471", MOSCOW),
            ("472", MOSCOW),
            ("473", MOSCOW),
            ("474", MOSCOW),
            ("475", MOSCOW),
            ("481", MOSCOW),
            ("482", MOSCOW),
            ("483", MOSCOW),
            ("484", MOSCOW),
            ("485", MOSCOW),
            ("486", MOSCOW),
            ("487", MOSCOW),
            ("491", MOSCOW),
            ("492", MOSCOW),
            ("493", MOSCOW),
            ("494", MOSCOW),
            // Samara time (+04).
            ("341", "Europe/Samara"),
            ("846", "Europe/Samara"),
            ("848", "Europe/Samara"),
            ("842", "Europe/Ulyanovsk"),
            ("845", "Europe/Saratov"),
            ("851", "Europe/Astrakhan"),
            // Yekaterinburg time (+05): the Urals.
            ("342", "Asia/Yekaterinburg"),
            ("343", "Asia/Yekaterinburg"),
            ("345", "Asia/Yekaterinburg"),
            ("346", "Asia/Yekaterinburg"),
            ("347", "Asia/Yekaterinburg"),
            ("349", "Asia/Yekaterinburg"),
            ("351", "Asia/Yekaterinburg"),
            ("352", "Asia/Yekaterinburg"),
            ("353", "Asia/Yekaterinburg"),
            // Omsk (+06), Novosibirsk, Tomsk, Kemerovo, Altai (+07).
            ("381", "Asia/Omsk"),
            ("382", "Asia/Tomsk"),
            ("383", "Asia/Novosibirsk"),
            ("384", "Asia/Novokuznetsk"),
            ("385", "Asia/Barnaul"),
            ("388", "Asia/Barnaul"),
            // Krasnoyarsk time (+07): Krasnoyarsk, Khakassia, Tuva.
            ("390", "Asia/Krasnoyarsk"),
            ("391", "Asia/Krasnoyarsk"),
            ("394", "Asia/Krasnoyarsk"),
            // Irkutsk time (+08): Irkutsk, Buryatia.
            ("395", "Asia/Irkutsk"),
            ("301", "Asia/Irkutsk"),
            // Yakutsk time (+09): Zabaykalsky, Amur; Sakha spans +09 to +11.
            ("302", "Asia/Chita"),
            ("416", "Asia/Yakutsk"),
            (
                "411",
                "Asia/Yakutsk|Asia/Khandyga|Asia/Ust-Nera|Asia/Srednekolymsk",
            ),
            // Vladivostok time (+10): Primorye, Khabarovsk, the Jewish Autonomous Oblast.
            ("421", "Asia/Vladivostok"),
            ("423", "Asia/Vladivostok"),
            ("426", "Asia/Vladivostok"),
            // +11: Sakhalin and the Kurils, Magadan; +12: Kamchatka, Chukotka.
            ("424", "Asia/Sakhalin"),
            ("413", "Asia/Magadan"),
            ("415", "Asia/Kamchatka"),
            ("427", "Asia/Anadyr"),
        ],
    },
    // Brazil: every number, mobile too, starts with its two-digit DDD area code.
    MultiZone {
        code: "55",
        all: "America/Noronha|America/Sao_Paulo|America/Bahia|America/Fortaleza|\
              America/Recife|America/Maceio|America/Araguaina|America/Belem|America/Santarem|\
              America/Manaus|America/Boa_Vista|America/Cuiaba|America/Campo_Grande|\
              America/Porto_Velho|America/Rio_Branco|America/Eirunepe",
        prefixes: &[
            // São Paulo, Rio de Janeiro, Espírito Santo, Minas Gerais, the south, Goiás, DF.
            ("11", "America/Sao_Paulo"),
            ("12", "America/Sao_Paulo"),
            ("13", "America/Sao_Paulo"),
            ("14", "America/Sao_Paulo"),
            ("15", "America/Sao_Paulo"),
            ("16", "America/Sao_Paulo"),
            ("17", "America/Sao_Paulo"),
            ("18", "America/Sao_Paulo"),
            ("19", "America/Sao_Paulo"),
            ("21", "America/Sao_Paulo"),
            ("22", "America/Sao_Paulo"),
            ("24", "America/Sao_Paulo"),
            ("27", "America/Sao_Paulo"),
            ("28", "America/Sao_Paulo"),
            ("31", "America/Sao_Paulo"),
            ("32", "America/Sao_Paulo"),
            ("33", "America/Sao_Paulo"),
            ("34", "America/Sao_Paulo"),
            ("35", "America/Sao_Paulo"),
            ("37", "America/Sao_Paulo"),
            ("38", "America/Sao_Paulo"),
            ("41", "America/Sao_Paulo"),
            ("42", "America/Sao_Paulo"),
            ("43", "America/Sao_Paulo"),
            ("44", "America/Sao_Paulo"),
            ("45", "America/Sao_Paulo"),
            ("46", "America/Sao_Paulo"),
            ("47", "America/Sao_Paulo"),
            ("48", "America/Sao_Paulo"),
            ("49", "America/Sao_Paulo"),
            ("51", "America/Sao_Paulo"),
            ("53", "America/Sao_Paulo"),
            ("54", "America/Sao_Paulo"),
            ("55", "America/Sao_Paulo"),
            ("61", "America/Sao_Paulo"),
            ("62", "America/Sao_Paulo"),
            ("64", "America/Sao_Paulo"),
            // Tocantins.
            ("63", "America/Araguaina"),
            // Mato Grosso, Mato Grosso do Sul, Acre, Rondônia.
            ("65", "America/Cuiaba"),
            ("66", "America/Cuiaba"),
            ("67", "America/Campo_Grande"),
            ("68", "America/Rio_Branco"),
            ("69", "America/Porto_Velho"),
            // Bahia, Sergipe, Alagoas.
            ("71", "America/Bahia"),
            ("73", "America/Bahia"),
            ("74", "America/Bahia"),
            ("75", "America/Bahia"),
            ("77", "America/Bahia"),
            ("79", "America/Maceio"),
            ("82", "America/Maceio"),
            // Pernambuco (81 includes Fernando de Noronha), Paraíba, Rio Grande do Norte,
            // Ceará, Piauí, Maranhão.
            ("81", "America/Recife|America/Noronha"),
            ("87", "America/Recife"),
            ("83", "America/Fortaleza"),
            ("84", "America/Fortaleza"),
            ("85", "America/Fortaleza"),
            ("88", "America/Fortaleza"),
            ("86", "America/Fortaleza"),
            ("89", "America/Fortaleza"),
            ("98", "America/Fortaleza"),
            ("99", "America/Fortaleza"),
            // Pará, Amapá.
            ("91", "America/Belem"),
            ("93", "America/Santarem"),
            ("94", "America/Belem"),
            ("96", "America/Belem"),
            // Amazonas (97 includes the west, at -05), Roraima.
            ("92", "America/Manaus"),
            ("97", "America/Manaus|America/Eirunepe"),
            ("95", "America/Boa_Vista"),
        ],
    },
    // Mexico: every number, mobile too, starts with its area code (two digits for Mexico
    // City, Guadalajara and Monterrey, three elsewhere).
    MultiZone {
        code: "52",
        all: "America/Mexico_City|America/Cancun|America/Merida|America/Monterrey|\
              America/Matamoros|America/Chihuahua|America/Ciudad_Juarez|America/Ojinaga|\
              America/Mazatlan|America/Bahia_Banderas|America/Hermosillo|America/Tijuana",
        prefixes: &[
            ("55", "America/Mexico_City"),
            ("56", "America/Mexico_City"),
            ("33", "America/Mexico_City"),
            ("81", "America/Monterrey"),
            // Central Mexico.
            ("222", "America/Mexico_City"),
            ("228", "America/Mexico_City"),
            ("229", "America/Mexico_City"),
            ("246", "America/Mexico_City"),
            ("322", "America/Mexico_City"),
            ("442", "America/Mexico_City"),
            ("443", "America/Mexico_City"),
            ("444", "America/Mexico_City"),
            ("449", "America/Mexico_City"),
            ("477", "America/Mexico_City"),
            ("492", "America/Mexico_City"),
            ("722", "America/Mexico_City"),
            ("744", "America/Mexico_City"),
            ("771", "America/Mexico_City"),
            ("777", "America/Mexico_City"),
            ("951", "America/Mexico_City"),
            ("961", "America/Mexico_City"),
            ("993", "America/Mexico_City"),
            // Coahuila, Durango, Nuevo León, Tamaulipas (the US border on US DST rules).
            ("618", "America/Monterrey"),
            ("844", "America/Monterrey"),
            ("871", "America/Monterrey"),
            ("833", "America/Monterrey"),
            ("834", "America/Monterrey"),
            ("867", "America/Matamoros"),
            ("868", "America/Matamoros"),
            ("899", "America/Matamoros"),
            // Yucatán, Campeche; Quintana Roo (-05).
            ("999", "America/Merida"),
            ("981", "America/Merida"),
            ("983", "America/Cancun"),
            ("984", "America/Cancun"),
            ("998", "America/Cancun"),
            // Chihuahua; Ciudad Juárez on US DST rules.
            ("614", "America/Chihuahua"),
            ("656", "America/Ciudad_Juarez"),
            // Sinaloa, Nayarit, Baja California Sur (-07).
            ("311", "America/Mazatlan"),
            ("612", "America/Mazatlan"),
            ("624", "America/Mazatlan"),
            ("667", "America/Mazatlan"),
            ("668", "America/Mazatlan"),
            ("669", "America/Mazatlan"),
            // Sonora (-07, no DST).
            ("622", "America/Hermosillo"),
            ("631", "America/Hermosillo"),
            ("644", "America/Hermosillo"),
            ("653", "America/Hermosillo"),
            ("662", "America/Hermosillo"),
            // Baja California (-08, US DST rules).
            ("646", "America/Tijuana"),
            ("664", "America/Tijuana"),
            ("665", "America/Tijuana"),
            ("686", "America/Tijuana"),
        ],
    },
    // Indonesia: fixed numbers by area code (2 Java, 31–35 East Java, 36–38 Bali and Nusa
    // Tenggara, 4 Sulawesi, 5 Kalimantan, 6–7 Sumatra, 9 Maluku and Papua); 8 mobile.
    MultiZone {
        code: "62",
        all: "Asia/Jakarta|Asia/Pontianak|Asia/Makassar|Asia/Jayapura",
        prefixes: &[
            ("2", "Asia/Jakarta"),
            ("31", "Asia/Jakarta"),
            ("32", "Asia/Jakarta"),
            ("33", "Asia/Jakarta"),
            ("34", "Asia/Jakarta"),
            ("35", "Asia/Jakarta"),
            ("36", "Asia/Makassar"),
            ("37", "Asia/Makassar"),
            ("38", "Asia/Makassar"),
            ("4", "Asia/Makassar"),
            ("51", "Asia/Makassar"),
            // Kuala Kapuas and Muara Teweh are in Central Kalimantan (WIB) among South
            // Kalimantan's codes.
            ("513", "Asia/Pontianak"),
            ("519", "Asia/Pontianak"),
            ("52", "Asia/Makassar|Asia/Pontianak"),
            ("53", "Asia/Pontianak"),
            ("54", "Asia/Makassar"),
            ("55", "Asia/Makassar"),
            ("56", "Asia/Pontianak"),
            ("6", "Asia/Jakarta"),
            ("7", "Asia/Jakarta"),
            ("9", "Asia/Jayapura"),
        ],
    },
    // Kazakhstan's own entry is +7 above.
    // Chile: 2 Santiago; 32 Valparaíso with Easter Island; 61 Magallanes (-03 all year);
    // 67 Aysén (-03 all year since 2025); 9 mobile.
    MultiZone {
        code: "56",
        all: "America/Santiago|America/Punta_Arenas|America/Coyhaique|Pacific/Easter",
        prefixes: &[
            ("2", "America/Santiago"),
            ("3", "America/Santiago"),
            ("32", "America/Santiago|Pacific/Easter"),
            ("4", "America/Santiago"),
            ("5", "America/Santiago"),
            ("6", "America/Santiago"),
            ("61", "America/Punta_Arenas"),
            ("67", "America/Coyhaique"),
            ("7", "America/Santiago"),
        ],
    },
    // DR Congo: Kinshasa and the west at +01, the east at +02; no reliable prefix.
    MultiZone {
        code: "243",
        all: "Africa/Kinshasa|Africa/Lubumbashi",
        prefixes: &[],
    },
    // Mongolia: 11 Ulaanbaatar; the western provinces keep +07.
    MultiZone {
        code: "976",
        all: "Asia/Ulaanbaatar|Asia/Hovd",
        prefixes: &[("11", "Asia/Ulaanbaatar")],
    },
    // Portugal: 291 Madeira, 292, 295, 296 the Azores, other 2 the mainland; 9 mobile.
    MultiZone {
        code: "351",
        all: "Europe/Lisbon|Atlantic/Madeira|Atlantic/Azores",
        prefixes: &[
            ("2", "Europe/Lisbon"),
            ("291", "Atlantic/Madeira"),
            ("292", "Atlantic/Azores"),
            ("295", "Atlantic/Azores"),
            ("296", "Atlantic/Azores"),
        ],
    },
    // Spain: 822, 828, 922, 928 the Canaries, other 8 and 9 the peninsula, the Balearics,
    // Ceuta and Melilla; 6 and 7 mobile.
    MultiZone {
        code: "34",
        all: "Europe/Madrid|Atlantic/Canary",
        prefixes: &[
            ("8", "Europe/Madrid"),
            ("9", "Europe/Madrid"),
            ("822", "Atlantic/Canary"),
            ("828", "Atlantic/Canary"),
            ("922", "Atlantic/Canary"),
            ("928", "Atlantic/Canary"),
        ],
    },
    // Ecuador: 5 Manabí with the Galápagos; 2, 3, 4, 6, 7 the mainland; 9 mobile.
    MultiZone {
        code: "593",
        all: "America/Guayaquil|Pacific/Galapagos",
        prefixes: &[
            ("2", "America/Guayaquil"),
            ("3", "America/Guayaquil"),
            ("4", "America/Guayaquil"),
            ("5", "America/Guayaquil|Pacific/Galapagos"),
            ("6", "America/Guayaquil"),
            ("7", "America/Guayaquil"),
        ],
    },
    // New Zealand: 3 305 the Chatham Islands; 3, 4, 6, 7, 9 the main islands; 2 mobile.
    MultiZone {
        code: "64",
        all: "Pacific/Auckland|Pacific/Chatham",
        prefixes: &[
            ("3", "Pacific/Auckland"),
            ("3305", "Pacific/Chatham"),
            ("4", "Pacific/Auckland"),
            ("6", "Pacific/Auckland"),
            ("7", "Pacific/Auckland"),
            ("9", "Pacific/Auckland"),
        ],
    },
    // Micronesia: Yap and Chuuk +10, Pohnpei and Kosrae +11.
    MultiZone {
        code: "691",
        all: "Pacific/Chuuk|Pacific/Pohnpei|Pacific/Kosrae",
        prefixes: &[],
    },
    // Kiribati: the Gilbert (+12), Phoenix (+13) and Line Islands (+14).
    MultiZone {
        code: "686",
        all: "Pacific/Tarawa|Pacific/Kanton|Pacific/Kiritimati",
        prefixes: &[],
    },
    // French Polynesia: Tahiti (-10), the Marquesas (-09:30), the Gambier Islands (-09).
    MultiZone {
        code: "689",
        all: "Pacific/Tahiti|Pacific/Marquesas|Pacific/Gambier",
        prefixes: &[],
    },
    // Réunion (+04) and Mayotte (+03) share +262: 262 and 692–693 Réunion, 269 and 639
    // Mayotte.
    MultiZone {
        code: "262",
        all: "Indian/Reunion|Indian/Mayotte",
        prefixes: &[
            ("262", "Indian/Reunion"),
            ("692", "Indian/Reunion"),
            ("693", "Indian/Reunion"),
            ("269", "Indian/Mayotte"),
            ("639", "Indian/Mayotte"),
        ],
    },
    // Papua New Guinea: Bougainville keeps +11, the rest +10.
    MultiZone {
        code: "675",
        all: "Pacific/Port_Moresby|Pacific/Bougainville",
        prefixes: &[],
    },
    // Greenland: most at -02/-01, Ittoqqortoormiit -01/+00, Danmarkshavn +00, Pituffik on
    // Atlantic time.
    MultiZone {
        code: "299",
        all: "America/Nuuk|America/Scoresbysund|America/Danmarkshavn|America/Thule",
        prefixes: &[],
    },
];

/// The zones (IANA names joined by `|`) of a number given as its digits after `+`, when its
/// country keeps several zones; `None` for other countries.
pub fn zones_of(digits: &str) -> Option<&'static str> {
    let country = COUNTRIES.iter().find(|c| digits.starts_with(c.code))?;
    let national = &digits[country.code.len()..];
    let best = country
        .prefixes
        .iter()
        .filter(|(p, _)| national.starts_with(p))
        .max_by_key(|(p, _)| p.len());
    Some(best.map_or(country.all, |(_, zones)| zones))
}
