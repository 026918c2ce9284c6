"""Gleditsch-Ward (GW) state numbers, as used by UCDP/PRIO, mapped to ISO 3166-1 alpha-3.

Source of the numbering: Gleditsch, K. S. and Ward, M. D. (1999), "A revised list of independent
states since the Congress of Vienna", International Interactions 25(4), and the UCDP codebooks.
`GW_TO_ISO3` covers the states of today; `GW_HISTORICAL` maps states that no longer exist to the
ISO code of the country whose territory they were on (so that a conflict located there counts
for that territory), or to None where no single successor fits. Codes in neither table are
reported by the loader and left out.
"""

from __future__ import annotations

GW_TO_ISO3: dict[int, str] = {
    # Americas
    2: "USA", 20: "CAN", 31: "BHS", 40: "CUB", 41: "HTI", 42: "DOM", 51: "JAM", 52: "TTO",
    53: "BRB", 54: "DMA", 55: "GRD", 56: "LCA", 57: "VCT", 58: "ATG", 60: "KNA", 70: "MEX",
    80: "BLZ", 90: "GTM", 91: "HND", 92: "SLV", 93: "NIC", 94: "CRI", 95: "PAN", 100: "COL",
    101: "VEN", 110: "GUY", 115: "SUR", 130: "ECU", 135: "PER", 140: "BRA", 145: "BOL",
    150: "PRY", 155: "CHL", 160: "ARG", 165: "URY",
    # Europe
    200: "GBR", 205: "IRL", 210: "NLD", 211: "BEL", 212: "LUX", 220: "FRA", 221: "MCO",
    223: "LIE", 225: "CHE", 230: "ESP", 232: "AND", 235: "PRT", 255: "DEU", 260: "DEU",
    290: "POL", 305: "AUT", 310: "HUN", 316: "CZE", 317: "SVK", 325: "ITA", 331: "SMR",
    338: "MLT", 339: "ALB", 340: "SRB", 341: "MNE", 343: "MKD", 344: "HRV", 346: "BIH",
    349: "SVN", 350: "GRC", 352: "CYP", 355: "BGR", 359: "MDA", 360: "ROU", 365: "RUS",
    366: "EST", 367: "LVA", 368: "LTU", 369: "UKR", 370: "BLR", 371: "ARM", 372: "GEO",
    373: "AZE", 375: "FIN", 380: "SWE", 385: "NOR", 390: "DNK", 395: "ISL",
    # Africa
    402: "CPV", 403: "STP", 404: "GNB", 411: "GNQ", 420: "GMB", 432: "MLI", 433: "SEN",
    434: "BEN", 435: "MRT", 436: "NER", 437: "CIV", 438: "GIN", 439: "BFA", 450: "LBR",
    451: "SLE", 452: "GHA", 461: "TGO", 471: "CMR", 475: "NGA", 481: "GAB", 482: "CAF",
    483: "TCD", 484: "COG", 490: "COD", 500: "UGA", 501: "KEN", 510: "TZA", 516: "BDI",
    517: "RWA", 520: "SOM", 522: "DJI", 530: "ETH", 531: "ERI", 540: "AGO", 541: "MOZ",
    551: "ZMB", 552: "ZWE", 553: "MWI", 560: "ZAF", 565: "NAM", 570: "LSO", 571: "BWA",
    572: "SWZ", 580: "MDG", 581: "COM", 590: "MUS", 591: "SYC", 600: "MAR", 615: "DZA",
    616: "TUN", 620: "LBY", 625: "SDN", 626: "SSD",
    # Middle East
    630: "IRN", 640: "TUR", 645: "IRQ", 651: "EGY", 652: "SYR", 660: "LBN", 663: "JOR",
    666: "ISR", 670: "SAU", 678: "YEM", 690: "KWT", 692: "BHR", 694: "QAT", 696: "ARE",
    698: "OMN",
    # Asia
    700: "AFG", 701: "TKM", 702: "TJK", 703: "KGZ", 704: "UZB", 705: "KAZ", 710: "CHN",
    712: "MNG", 713: "TWN", 731: "PRK", 732: "KOR", 740: "JPN", 750: "IND", 760: "BTN",
    770: "PAK", 771: "BGD", 775: "MMR", 780: "LKA", 781: "MDV", 790: "NPL", 800: "THA",
    811: "KHM", 812: "LAO", 816: "VNM", 820: "MYS", 830: "SGP", 835: "BRN", 840: "PHL",
    850: "IDN", 860: "TLS",
    # Oceania
    900: "AUS", 910: "PNG", 920: "NZL", 935: "VUT", 940: "SLB", 950: "FJI", 970: "KIR",
    971: "NRU", 972: "TON", 973: "TUV", 983: "MHL", 986: "PLW", 987: "FSM", 990: "WSM",
}  # fmt: skip
"""Current states. 255 (Germany, as UCDP and SOURCES.md name it) and 260 (German Federal
Republic, GW's code for Germany since 1949) both map to DEU; 340 (Serbia) is GW's code after 2006.
The Pacific microstates follow GW, not Correlates of War (GW 972 Tonga, COW 955)."""

GW_HISTORICAL: dict[int, tuple[str | None, str]] = {
    265: (None, "German Democratic Republic (1949-1990)"),
    300: (None, "Austria-Hungary (to 1918)"),
    315: (None, "Czechoslovakia (1918-1992)"),
    345: (
        "SRB",
        "Yugoslavia / Serbia and Montenegro (1918-2006); conflicts there count for Serbia",
    ),
    347: (None, "Kosovo: no ISO 3166-1 code"),
    511: ("TZA", "Zanzibar (1963-1964)"),
    680: ("YEM", "South Yemen (1967-1990)"),
    711: ("CHN", "Tibet (1913-1950)"),
    730: (None, "Korea (to 1910)"),
    751: ("IND", "Hyderabad (1947-1948)"),
    817: ("VNM", "Republic of Vietnam (1954-1975)"),
}
"""States that no longer exist: (ISO3 of the territory today or None, what the code was)."""


def gw_to_iso3(code: int) -> str | None:
    """ISO 3166-1 alpha-3 code of a GW number; None when there is no single one."""
    if code in GW_TO_ISO3:
        return GW_TO_ISO3[code]
    if code in GW_HISTORICAL:
        return GW_HISTORICAL[code][0]
    return None


def parse_gw_list(cell: str) -> list[int]:
    """GW numbers of a UCDP cell such as '365, 369' (empty cell: none)."""
    return [int(part) for part in str(cell).split(",") if part.strip()]
