"""Word lists the sample data is drawn from: names, places, products.

Contact details are made unreachable on purpose: emails use the reserved ``example.com``,
``example.net`` and ``example.org`` domains, and phone numbers come from ranges set aside for
fiction (the North American 555 exchange, Ofcom's drama ranges, ACMA's 5550 landlines), so a
sample audience sent to a real account can reach nobody.
"""

from __future__ import annotations

from dataclasses import dataclass


def _words(text: str) -> tuple[str, ...]:
    """Space-separated words; an underscore stands for a space inside one (``Van_der_Berg``)."""
    return tuple(word.replace("_", " ") for word in text.split())


__all__ = [
    "ADJECTIVES",
    "BRANDS",
    "CITIES",
    "COLORS",
    "EMAIL_DOMAINS",
    "FEMALE_NAMES",
    "LAST_NAMES",
    "MALE_NAMES",
    "STREETS",
    "STREET_SUFFIXES",
    "SUBCATEGORIES",
    "City",
    "Subcategory",
]

FEMALE_NAMES = _words(
    "Mary Patricia Jennifer Linda Elizabeth Barbara Susan Jessica Sarah Karen Lisa Nancy Betty "
    "Margaret Sandra Ashley Kimberly Emily Donna Michelle Carol Amanda Dorothy Melissa Deborah "
    "Stephanie Rebecca Sharon Laura Cynthia Kathleen Amy Angela Shirley Anna Brenda Pamela Emma "
    "Nicole Helen Samantha Katherine Christine Debra Rachel Carolyn Janet Catherine Maria Heather "
    "Diane Ruth Julie Olivia Joyce Virginia Victoria Kelly Lauren Christina Joan Evelyn Judith "
    "Megan Andrea Cheryl Hannah Jacqueline Martha Gloria Teresa Ann Sara Madison Frances Kathryn "
    "Janice Jean Abigail Alice Judy Sophia Grace Denise Amber Doris Marilyn Danielle Beverly "
    "Isabella Theresa Diana Natalie Brittany Charlotte Marie Kayla Alexis Lori Zoë Chloé Siobhan "
    "Priya Mei Aaliyah Ximena Fatima"
)
MALE_NAMES = _words(
    "James Robert John Michael David William Richard Joseph Thomas Christopher Charles Daniel "
    "Matthew Anthony Mark Donald Steven Andrew Paul Joshua Kenneth Kevin Brian George Timothy "
    "Ronald Jason Edward Jeffrey Ryan Jacob Gary Nicholas Eric Jonathan Stephen Larry Justin "
    "Scott Brandon Benjamin Samuel Gregory Alexander Patrick Frank Raymond Jack Dennis Jerry "
    "Tyler Aaron Jose Adam Nathan Henry Zachary Douglas Peter Kyle Noah Ethan Jeremy Walter "
    "Christian Keith Roger Terry Austin Sean Gerald Carl Harold Dylan Arthur Lawrence Jordan "
    "Jesse Bryan Billy Bruce Gabriel Joe Logan Alan Juan Albert Willie Elijah Wayne Randy "
    "Vincent Mason Roy Ralph Bobby Russell Bradley Philip Eugene Liam Oliver Mateo José Rajesh "
    "Wei Mohammed Seamus"
)
LAST_NAMES = _words(
    "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez "
    "Gonzalez Wilson Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White "
    "Harris Sanchez Clark Ramirez Lewis Robinson Walker Young Allen King Wright Scott Torres "
    "Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter Roberts "
    "Gomez Phillips Evans Turner Diaz Parker Cruz Edwards Collins Reyes Stewart Morris Morales "
    "Murphy Cook Rogers Gutierrez Ortiz Morgan Cooper Peterson Bailey Reed Kelly Howard Ramos "
    "Kim Cox Ward Richardson Watson Brooks Chavez Wood James Bennett Gray Mendoza Ruiz Hughes "
    "Price Alvarez Castillo Sanders Patel Myers Long Ross Foster Jimenez Powell Jenkins Perry "
    "Russell Sullivan Bell Coleman Butler Henderson Barnes Fisher Vasquez Simmons Graham "
    "Marshall Owens Harrison O'Brien O'Connor McDonald MacLeod Van_der_Berg De_la_Cruz Müller "
    "Søren Núñez Björk Smith-Jones Chen Wang Singh Kowalski Dubois Rossi Tanaka Murray Fraser "
    "Hughes-Wilson"
)
STREETS = _words(
    "Main Oak Pine Maple Cedar Elm Washington Lake Hill Park Walnut Sunset Highland Church "
    "Mill River Spring Ridge Forest Meadow Chestnut Willow Jackson Lincoln Madison Franklin "
    "Center Market Union Water High King Queen Victoria Station George Albert"
)
STREET_SUFFIXES = ("St", "Ave", "Rd", "Blvd", "Ln", "Dr", "Way", "Ct", "Street", "Avenue")
EMAIL_DOMAINS = (
    "example.com",
    "example.net",
    "example.org",
    "mail.example.com",
    "inbox.example.net",
    "post.example.org",
    "shop.example.com",
    "webmail.example.net",
)


@dataclass(frozen=True)
class City:
    name: str
    state: str | None
    country: str  # ISO 3166-1 alpha-2
    postal: tuple[str, ...]  # US zip3 / CA FSA / UK outward code / AU postcode
    dial: tuple[str, ...]  # national number prefixes of fictional phone numbers


def _us(name: str, state: str, zip3: str, *areas: str) -> City:
    # NANP keeps the 555 exchange out of service, so AAA-555-LLLL reaches no one.
    return City(name, state, "US", (zip3,), tuple(f"{area}555" for area in areas))


def _ca(name: str, province: str, fsas: str, *areas: str) -> City:
    return City(name, province, "CA", tuple(fsas.split()), tuple(f"{a}555" for a in areas))


CITIES: tuple[City, ...] = (
    _us("New York", "NY", "100", "212", "646", "917"),
    _us("Brooklyn", "NY", "112", "718", "347"),
    _us("Los Angeles", "CA", "900", "213", "323", "310"),
    _us("San Francisco", "CA", "941", "415", "628"),
    _us("San Diego", "CA", "921", "619", "858"),
    _us("San Jose", "CA", "951", "408", "669"),
    _us("Chicago", "IL", "606", "312", "773", "872"),
    _us("Houston", "TX", "770", "713", "832", "281"),
    _us("Dallas", "TX", "752", "214", "469", "972"),
    _us("Austin", "TX", "787", "512", "737"),
    _us("San Antonio", "TX", "782", "210", "726"),
    _us("Phoenix", "AZ", "850", "602", "480", "623"),
    _us("Philadelphia", "PA", "191", "215", "267"),
    _us("Pittsburgh", "PA", "152", "412"),
    _us("Lancaster", "PA", "176", "717"),
    _us("Seattle", "WA", "981", "206"),
    _us("Portland", "OR", "972", "503", "971"),
    _us("Denver", "CO", "802", "303", "720"),
    _us("Boston", "MA", "021", "617", "857"),
    _us("Atlanta", "GA", "303", "404", "678", "470"),
    _us("Miami", "FL", "331", "305", "786"),
    _us("Orlando", "FL", "328", "407", "321"),
    _us("Tampa", "FL", "336", "813"),
    _us("Minneapolis", "MN", "554", "612"),
    _us("Detroit", "MI", "482", "313"),
    _us("Nashville", "TN", "372", "615", "629"),
    _us("Charlotte", "NC", "282", "704", "980"),
    _us("Raleigh", "NC", "276", "919", "984"),
    _us("Columbus", "OH", "432", "614"),
    _us("Indianapolis", "IN", "462", "317"),
    _us("Las Vegas", "NV", "891", "702", "725"),
    _us("Salt Lake City", "UT", "841", "801", "385"),
    _us("Newark", "NJ", "071", "973", "862"),
    _us("Hartford", "CT", "061", "860"),
    _us("Providence", "RI", "029", "401"),
    _us("Portland", "ME", "041", "207"),
    _us("Baltimore", "MD", "212", "410", "443"),
    _us("Washington", "DC", "200", "202"),
    _us("Kansas City", "MO", "641", "816"),
    _us("St. Louis", "MO", "631", "314"),
    _us("New Orleans", "LA", "701", "504"),
    _us("Honolulu", "HI", "968", "808"),
    _us("Anchorage", "AK", "995", "907"),
    _us("Milwaukee", "WI", "532", "414"),
    _us("Richmond", "VA", "232", "804"),
    _us("Omaha", "NE", "681", "402"),
    _us("Albuquerque", "NM", "871", "505"),
    _us("Boise", "ID", "837", "208"),
    _ca("Toronto", "ON", "M5V M4W M6K", "416", "647", "437"),
    _ca("Vancouver", "BC", "V6B V5K", "604", "778"),
    _ca("Montréal", "QC", "H2X H3B", "514", "438"),
    _ca("Calgary", "AB", "T2P T3A", "403", "587"),
    _ca("Ottawa", "ON", "K1P K2B", "613", "343"),
    _ca("Edmonton", "AB", "T5J", "780"),
    _ca("Winnipeg", "MB", "R3C", "204", "431"),
    _ca("Halifax", "NS", "B3H", "902", "782"),
    # Ofcom's drama ranges: 020 7946 0xxx and 0xx1 496 0xxx (plus 07700 900xxx mobiles below).
    City("London", None, "GB", ("SW1A", "EC1A", "N1", "SE1", "W1D", "E14"), ("2079460",)),
    City("Manchester", None, "GB", ("M1", "M2", "M4"), ("1614960",)),
    City("Birmingham", None, "GB", ("B1", "B2"), ("1214960",)),
    City("Leeds", None, "GB", ("LS1", "LS2"), ("1134960",)),
    City("Glasgow", None, "GB", ("G1", "G2"), ("1414960",)),
    City("Edinburgh", None, "GB", ("EH1", "EH2"), ("1314960",)),
    City("Bristol", None, "GB", ("BS1",), ("1174960",)),
    City("Liverpool", None, "GB", ("L1", "L2"), ("1514960",)),
    # ACMA's fictional landlines: (0x) 5550 xxxx.
    City("Sydney", "NSW", "AU", ("2000", "2010", "2060"), ("25550",)),
    City("Melbourne", "VIC", "AU", ("3000", "3121"), ("35550",)),
    City("Brisbane", "QLD", "AU", ("4000",), ("75550",)),
    City("Perth", "WA", "AU", ("6000",), ("85550",)),
    City("Adelaide", "SA", "AU", ("5000",), ("85550",)),
    City("Canberra", "ACT", "AU", ("2600",), ("25550",)),
)


@dataclass(frozen=True)
class Subcategory:
    category: str
    name: str
    nouns: tuple[str, ...]
    price_low: int
    price_high: int
    sizes: tuple[str, ...]


_APPAREL = ("XS", "S", "M", "L", "XL", "XXL")
_SHOES = ("6", "7", "8", "9", "10", "11", "12")
_ONE = ("One Size",)

SUBCATEGORIES: tuple[Subcategory, ...] = (
    Subcategory("Women", "Tops", ("Cabana Top", "Wrap Blouse", "Tee", "Tank"), 18, 70, _APPAREL),
    Subcategory("Women", "Dresses", ("Midi Dress", "Maxi Dress", "Shift Dress"), 40, 180, _APPAREL),
    Subcategory("Women", "Swimwear", ("Bikini Top", "One-Piece", "Cover-up"), 25, 120, _APPAREL),
    Subcategory("Women", "Outerwear", ("Puffer Jacket", "Trench Coat"), 80, 320, _APPAREL),
    Subcategory("Men", "Shirts", ("Oxford Shirt", "Polo", "Flannel Shirt"), 25, 95, _APPAREL),
    Subcategory("Men", "Pants", ("Chino", "Slim Jean", "Jogger"), 35, 130, _APPAREL),
    Subcategory("Men", "Outerwear", ("Field Jacket", "Parka", "Fleece"), 70, 350, _APPAREL),
    Subcategory("Shoes", "Sneakers", ("Runner", "Court Sneaker", "Slip-On"), 45, 160, _SHOES),
    Subcategory("Shoes", "Boots", ("Chelsea Boot", "Hiking Boot"), 90, 260, _SHOES),
    Subcategory("Shoes", "Sandals", ("Slide", "Sandal"), 20, 90, _SHOES),
    Subcategory("Accessories", "Bags", ("Tote", "Crossbody Bag", "Backpack"), 30, 250, _ONE),
    Subcategory("Accessories", "Jewelry", ("Hoop Earrings", "Pendant", "Bracelet"), 15, 140, _ONE),
    Subcategory("Accessories", "Hats", ("Beanie", "Baseball Cap", "Sun Hat"), 15, 55, _ONE),
    Subcategory("Home", "Bedding", ("Duvet Cover", "Sheet Set", "Throw"), 40, 220, _ONE),
    Subcategory("Home", "Kitchen", ("Mug Set", "Chef Knife", "Dutch Oven"), 12, 300, _ONE),
    Subcategory("Beauty", "Skincare", ("Face Serum", "Moisturizer", "Cleanser"), 12, 95, _ONE),
    Subcategory("Beauty", "Fragrance", ("Eau de Parfum", "Body Mist"), 25, 150, _ONE),
    Subcategory("Kids", "Kids Apparel", ("Hoodie", "Pajama Set", "Rain Jacket"), 15, 65, _APPAREL),
)
ADJECTIVES = _words(
    "Classic Essential Everyday Coastal Heritage Modern Relaxed Vintage Organic Premium "
    "Lightweight Cozy Tailored Summit Harbor Alpine Urban Breeze"
)
COLORS = _words(
    "Black White Navy Red Olive Sand Grey Blush Cobalt Forest Charcoal Ivory Rust Teal Mustard Plum"
)
BRANDS = (
    "Style Co.",
    "Harbor & Pine",
    "Northwind",
    "Luma",
    "Fieldstone",
    "Maison Verte",
    "Trailhead",
    "Kinfolk Goods",
)
