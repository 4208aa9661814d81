"""Name, place, e-mail, phone and product pools the demo world draws from."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

# fmt: off

NAME_POOLS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "DE": (
        ("Anna", "Lukas", "Jürgen", "Sophie", "Maximilian", "Lea", "Jörg", "Katrin",
         "Felix", "Hannah", "Björn", "Günther", "Leonie", "Paul", "Sabine"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
         "Schäfer", "Koch", "Groß", "Hoffmann", "Schröder", "Krüger", "Yılmaz"),  # noqa: RUF001
    ),
    "FR": (
        ("François", "Chloé", "Hélène", "Léa", "Théo", "Camille", "Jérôme", "Zoë",
         "Noël", "Amélie", "Lucas", "Manon", "Inès", "Hugo", "Gaëlle"),
        ("Dubois", "Lefèvre", "Martin", "Bernard", "Moreau", "Girard", "Rousseau", "Lévêque",
         "Fontaine", "Durand", "Petit", "Leroy", "Faure", "Mercier", "Benoît"),
    ),
    "NL": (
        ("Daan", "Sanne", "Jeroen", "Femke", "Bram", "Lotte", "Sem", "Anouk",
         "Joris", "Noor", "Sven", "Fleur", "Thijs", "Eva", "Ruben"),
        ("de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser",
         "Smit", "Meijer", "Mulder", "de Boer", "Dekker", "Bos", "Vos", "Peters"),
    ),
    "GB": (
        ("Oliver", "Amelia", "Harry", "Isla", "George", "Chloe", "Siobhán", "Niamh",
         "Seán", "Emily", "Jack", "Grace", "Thomas", "Sophie", "Rhys"),
        ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "O'Brien", "Davies",
         "Evans", "Thomas", "Roberts", "Walker", "Wright", "Hughes", "McDonald"),
    ),
    "US": (
        ("James", "Mary", "José", "María", "Liam", "Olivia", "Ethan", "Zoë",
         "Noah", "Ava", "Michael", "Emma", "Daniel", "Mia", "Andrés"),
        ("Johnson", "García", "Rodríguez", "Miller", "Davis", "Martínez", "Nguyen", "Kim",
         "Anderson", "Thompson", "López", "Clark", "Lewis", "Hernández", "Young"),
    ),
    "NORDIC": (
        ("Søren", "Åsa", "Ingrid", "Lars", "Mette", "Björk"),
        ("Ørsted", "Jørgensen", "Lindqvist", "Nørgaard", "Åberg", "Sørensen"),
    ),
}
NAME_POOL_KEYS = tuple(NAME_POOLS)


@dataclass(frozen=True)
class _Country:
    code: str
    weight: float
    dial: str  # country calling code
    trunk: str  # national trunk prefix, "" for the North American plan
    subscriber_digits: int
    cities: tuple[tuple[str, str], ...]  # (city, area code)


COUNTRIES = (
    _Country("DE", 0.45, "49", "0", 7, (
        ("Berlin", "30"), ("Hamburg", "40"), ("München", "89"), ("Köln", "221"),
        ("Frankfurt am Main", "69"), ("Düsseldorf", "211"), ("Leipzig", "341"))),
    _Country("FR", 0.15, "33", "0", 8, (
        ("Paris", "1"), ("Lyon", "4"), ("Marseille", "4"), ("Toulouse", "5"),
        ("Besançon", "3"), ("Nantes", "2"))),
    _Country("NL", 0.15, "31", "0", 7, (
        ("Amsterdam", "20"), ("Rotterdam", "10"), ("Den Haag", "70"), ("Utrecht", "30"),
        ("Eindhoven", "40"))),
    _Country("GB", 0.15, "44", "0", 7, (
        ("London", "207"), ("Manchester", "161"), ("Birmingham", "121"),
        ("Edinburgh", "131"), ("Bristol", "117"))),
    _Country("US", 0.10, "1", "", 7, (
        ("New York", "212"), ("Chicago", "312"), ("San Francisco", "415"),
        ("Austin", "512"), ("Boston", "617"))),
)
COUNTRY_CUM = tuple(accumulate(c.weight for c in COUNTRIES))
EXONYMS = {"München": "Munich", "Köln": "Cologne", "Den Haag": "The Hague",
           "Frankfurt am Main": "Frankfurt"}

EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example", "post.example",
                 "webmail.test", "inbox.test")
EMAIL_DOMAIN_CUM = tuple(accumulate((30, 15, 10, 15, 10, 10, 10)))
EMAIL_STYLES = ("{f}.{l}", "{f}{l}", "{i}.{l}", "{f}_{l}", "{l}.{f}", "{f}.{l}{yy}", "{f}{yy}")
EMAIL_STYLE_CUM = tuple(accumulate((30, 12, 15, 8, 8, 15, 12)))

PHONE_FORMATS = {
    "international": "+{d} {a} {s}",
    "e164": "+{d}{a}{s}",
    "double_zero": "00{d}{a}{s}",
    "national_dash": "{t}{a}-{s}",
    "national_space": "{t}{a} {s}",
}
PHONE_STYLES = tuple(PHONE_FORMATS)
CRM_PHONE_CUM = tuple(accumulate((70, 5, 0, 5, 20)))
SHOP_PHONE_CUM = tuple(accumulate((25, 20, 10, 25, 20)))

# category -> (items, lowest and highest typical price in EUR)
CATEGORIES: dict[str, tuple[tuple[str, ...], float, float]] = {
    "Electronics": (("Wireless Headphones", "USB-C Charger", "Smart Speaker", "Action Camera",
                     "E-Reader", "Bluetooth Keyboard"), 15.0, 249.0),
    "Home & Kitchen": (("Espresso Machine", "Chef's Knife", "Cast Iron Skillet",
                        "Crème Brûlée Torch", "Linen Duvet Cover", "Glass Teapot"), 12.0, 180.0),
    "Garden": (("Pruning Shears", "Rain Barrel", "Solar Lantern", "Raised Bed Kit",
                "Hose Reel"), 8.0, 120.0),
    "Toys": (("Wooden Train Set", "Puzzle 1000 Pieces", "Plush Fox", "Building Blocks",
              "Stunt Kite"), 6.0, 60.0),
    "Books": (("Cookbook", "Travel Guide", "Novel", "World Atlas", "Field Guide"), 9.0, 45.0),
    "Sports": (("Yoga Mat", "Running Belt", "Trail Shoes", "Water Bottle", "Climbing Chalk"),
               7.0, 140.0),
}
CATEGORY_NAMES = tuple(CATEGORIES)
BRANDS = ("Nordlicht", "Alba", "Kestrel", "Fjord", "Lumen", "Brisa", "Åra", "Zephyr",
          "Mosaïque", "Tandem")
PRICE_ENDINGS = (99, 99, 99, 49, 0)

FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue",
                      "ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "Ae", "å": "a",
                      "Å": "A", "ı": "i", "ł": "l"})  # noqa: RUF001
# fmt: on
