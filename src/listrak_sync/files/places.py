"""Lookup tables for the customer ``state`` and ``country`` columns (§4.3 rule 17).

Listrak wants abbreviations: a state of at most 3 characters and a 2-letter country. Full US
state and Canadian province names map to postal codes; countries accept ISO 3166-1 alpha-2 codes
(checked against the regions phonenumbers knows) and the common English names and alpha-3 codes
below. Anything else is emptied with a warning rather than guessed.
"""

from __future__ import annotations

import phonenumbers

__all__ = ["COUNTRY_CODES", "COUNTRY_NAMES", "STATE_NAMES"]

STATE_NAMES: dict[str, str] = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA",
    "colorado": "CO", "connecticut": "CT", "delaware": "DE", "district of columbia": "DC",
    "florida": "FL", "georgia": "GA", "hawaii": "HI", "idaho": "ID", "illinois": "IL",
    "indiana": "IN", "iowa": "IA", "kansas": "KS", "kentucky": "KY", "louisiana": "LA",
    "maine": "ME", "maryland": "MD", "massachusetts": "MA", "michigan": "MI", "minnesota": "MN",
    "mississippi": "MS", "missouri": "MO", "montana": "MT", "nebraska": "NE", "nevada": "NV",
    "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM", "new york": "NY",
    "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK", "oregon": "OR",
    "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA",
    "washington": "WA", "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
    "puerto rico": "PR", "guam": "GU", "u.s. virgin islands": "VI", "american samoa": "AS",
    "northern mariana islands": "MP",
    "alberta": "AB", "british columbia": "BC", "manitoba": "MB", "new brunswick": "NB",
    "newfoundland and labrador": "NL", "nova scotia": "NS", "northwest territories": "NT",
    "nunavut": "NU", "ontario": "ON", "prince edward island": "PE", "quebec": "QC",
    "québec": "QC", "saskatchewan": "SK", "yukon": "YT",
}  # fmt: skip

COUNTRY_NAMES: dict[str, str] = {
    "united states": "US", "united states of america": "US", "usa": "US", "u.s.a.": "US",
    "u.s.": "US", "canada": "CA", "can": "CA", "mexico": "MX", "mex": "MX",
    "united kingdom": "GB", "great britain": "GB", "uk": "GB", "gbr": "GB", "england": "GB",
    "ireland": "IE", "irl": "IE", "australia": "AU", "aus": "AU", "new zealand": "NZ",
    "nzl": "NZ", "germany": "DE", "deu": "DE", "france": "FR", "fra": "FR", "spain": "ES",
    "esp": "ES", "italy": "IT", "ita": "IT", "netherlands": "NL", "nld": "NL", "belgium": "BE",
    "switzerland": "CH", "che": "CH", "austria": "AT", "sweden": "SE", "swe": "SE",
    "norway": "NO", "nor": "NO", "denmark": "DK", "dnk": "DK", "finland": "FI", "poland": "PL",
    "portugal": "PT", "japan": "JP", "jpn": "JP", "china": "CN", "chn": "CN", "india": "IN",
    "ind": "IN", "brazil": "BR", "bra": "BR", "south korea": "KR", "korea": "KR",
    "singapore": "SG", "israel": "IL", "south africa": "ZA", "philippines": "PH",
    "puerto rico": "PR",
}  # fmt: skip

# ISO 3166-1 alpha-2 codes with a telephone numbering plan: every inhabited country.
COUNTRY_CODES: frozenset[str] = frozenset(phonenumbers.SUPPORTED_REGIONS)
