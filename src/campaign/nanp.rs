//! North American Numbering Plan area codes and the time zones they cover, derived from the
//! area codes' geography (states, provinces and the counties along zone lines). An area code
//! that spans a zone line lists every zone it reaches; toll-free and non-geographic codes
//! (800, 888, 500, 600, …) are absent and take the outplan's default zone.

/// Zones (IANA names, joined by `|`) and the area codes wholly or partly in them.
pub const AREA_CODES: &[(&str, &[u16])] = &[
    // Eastern.
    (
        "America/New_York",
        &[
            // Connecticut, Delaware, District of Columbia.
            203, 475, 860, 959, 302, 202, 771, //
            // Florida (peninsula).
            239, 305, 321, 324, 352, 386, 407, 561, 645, 656, 689, 727, 728, 754, 772, 786, 813,
            863, 904, 941, 954, //
            // Georgia.
            229, 404, 470, 478, 678, 706, 762, 770, 912, 943, //
            // Maine, Maryland, Massachusetts, New Hampshire.
            207, 227, 240, 301, 410, 443, 667, 339, 351, 413, 508, 617, 774, 781, 857, 978,
            603, //
            // New Jersey.
            201, 551, 609, 640, 732, 848, 856, 862, 908, 973, //
            // New York.
            212, 315, 329, 332, 347, 363, 516, 518, 585, 607, 624, 631, 646, 680, 716, 718, 838,
            845, 914, 917, 929, 934, //
            // North Carolina.
            252, 336, 472, 704, 743, 828, 910, 919, 980, 984, //
            // Ohio.
            216, 220, 234, 283, 326, 330, 380, 419, 436, 440, 513, 567, 614, 740, 937, //
            // Pennsylvania.
            215, 223, 267, 272, 412, 445, 484, 570, 582, 610, 717, 724, 814, 835, 878, //
            // Rhode Island, South Carolina, Vermont.
            401, 803, 821, 839, 843, 854, 864, 802, //
            // Virginia, West Virginia, East Tennessee, eastern Kentucky.
            276, 434, 540, 571, 686, 703, 757, 804, 826, 948, 304, 681, 423, 865, 606, 859,
        ],
    ),
    ("America/Kentucky/Louisville", &[502]),
    (
        "America/Detroit",
        &[231, 248, 269, 313, 517, 586, 616, 679, 734, 810, 947, 989],
    ),
    ("America/Indiana/Indianapolis", &[260, 317, 463, 574, 765]),
    // Central.
    (
        "America/Chicago",
        &[
            // Alabama, Arkansas.
            205, 251, 256, 334, 483, 659, 938, 327, 479, 501, 870, //
            // Illinois.
            217, 224, 309, 312, 331, 447, 464, 618, 630, 708, 730, 773, 779, 815, 847, 861,
            872, //
            // Iowa, Louisiana, Minnesota, Mississippi.
            319, 515, 563, 641, 712, 225, 318, 337, 504, 985, 218, 320, 507, 612, 651, 763, 924,
            952, 228, 601, 662, 769, //
            // Missouri, Nebraska (east), Oklahoma.
            235, 314, 417, 557, 573, 636, 660, 816, 975, 402, 531, 405, 539, 572, 580, 918, //
            // Texas (all but El Paso).
            210, 214, 254, 281, 325, 346, 361, 409, 430, 432, 469, 512, 682, 713, 726, 737, 806,
            817, 830, 832, 903, 936, 940, 945, 956, 972, 979, //
            // Wisconsin, Middle and West Tennessee, northwest Indiana.
            262, 274, 353, 414, 534, 608, 715, 920, 615, 629, 731, 901, 219,
        ],
    ),
    // Area codes across the Eastern–Central line.
    ("America/Chicago|America/New_York", &[448, 850, 931]),
    ("America/Chicago|America/Indiana/Indianapolis", &[812, 930]),
    ("America/Chicago|America/Kentucky/Louisville", &[270, 364]),
    ("America/Detroit|America/Menominee", &[906]),
    // Area codes across the Central–Mountain line.
    ("America/Chicago|America/Denver", &[308, 605, 620, 701, 785]),
    // Mountain.
    (
        "America/Denver",
        &[
            303, 719, 720, 970, 983, 406, 505, 575, 385, 435, 801, 307, 915,
        ],
    ),
    ("America/Phoenix", &[480, 520, 602, 623]),
    // The Navajo Nation keeps daylight saving time, the rest of Arizona does not.
    ("America/Phoenix|America/Denver", &[928]),
    // Idaho: Mountain in the south, Pacific in the panhandle.
    ("America/Boise|America/Los_Angeles", &[208, 986]),
    // Eastern Oregon's Malheur County is on Mountain time.
    ("America/Los_Angeles|America/Boise", &[458, 541]),
    // Pacific.
    (
        "America/Los_Angeles",
        &[
            // California.
            209, 213, 279, 310, 323, 341, 350, 369, 408, 415, 424, 442, 510, 530, 559, 562, 619,
            626, 628, 650, 657, 661, 669, 707, 714, 738, 747, 760, 805, 818, 820, 831, 837, 840,
            858, 909, 916, 925, 949, 951, //
            // Nevada, Oregon, Washington.
            702, 725, 775, 503, 971, 206, 253, 360, 425, 509, 564,
        ],
    ),
    ("America/Anchorage|America/Adak", &[907]),
    ("Pacific/Honolulu", &[808]),
    // US territories.
    ("America/Puerto_Rico", &[787, 939]),
    ("America/St_Thomas", &[340]),
    ("Pacific/Guam", &[671]),
    ("Pacific/Saipan", &[670]),
    ("Pacific/Pago_Pago", &[684]),
    // Canada.
    ("America/Vancouver", &[604]),
    // British Columbia's overlays reach the Kootenays, on Mountain time.
    (
        "America/Vancouver|America/Edmonton",
        &[236, 250, 257, 672, 778],
    ),
    ("America/Edmonton", &[368, 403, 587, 780, 825]),
    ("America/Regina", &[306, 474, 639]),
    ("America/Winnipeg", &[204, 431, 584]),
    (
        "America/Toronto",
        &[
            // Ontario.
            226, 249, 289, 343, 365, 382, 416, 437, 519, 548, 613, 647, 683, 705, 742, 753, 905,
            942, //
            // Quebec.
            263, 354, 367, 418, 438, 450, 468, 514, 579, 581, 819, 873,
        ],
    ),
    // Northwestern Ontario: Thunder Bay on Eastern, Kenora on Central.
    ("America/Toronto|America/Winnipeg", &[807]),
    ("America/Moncton", &[428, 506]),
    ("America/Halifax", &[782, 902]),
    // Newfoundland, and Labrador on Atlantic time.
    ("America/St_Johns|America/Goose_Bay", &[709, 879]),
    // Yukon, Northwest Territories and Nunavut.
    (
        "America/Whitehorse|America/Edmonton|America/Winnipeg|America/Iqaluit",
        &[867],
    ),
    // The Caribbean and Atlantic members of the plan.
    ("America/Nassau", &[242]),
    ("America/Barbados", &[246]),
    ("America/Anguilla", &[264]),
    ("America/Antigua", &[268]),
    ("America/Tortola", &[284]),
    ("America/Cayman", &[345]),
    ("Atlantic/Bermuda", &[441]),
    ("America/Grenada", &[473]),
    ("America/Grand_Turk", &[649]),
    ("America/Jamaica", &[658, 876]),
    ("America/Montserrat", &[664]),
    ("America/Lower_Princes", &[721]),
    ("America/St_Lucia", &[758]),
    ("America/Dominica", &[767]),
    ("America/St_Vincent", &[784]),
    ("America/Santo_Domingo", &[809, 829, 849]),
    ("America/Port_of_Spain", &[868]),
    ("America/St_Kitts", &[869]),
];
