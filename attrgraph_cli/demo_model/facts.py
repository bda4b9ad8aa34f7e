"""The small real-world table behind the demo corpus: places, capitals, languages, antonyms, names.

Every entry is one word so that each answer is exactly one token of the word-level tokenizer.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Region:
    """A US state or a country, with its capital, (for countries) its language, and three of its cities."""

    name: str
    kind: str  # "state" or "country"
    capital: str
    language: str | None
    cities: tuple[str, ...]


REGIONS: tuple[Region, ...] = (
    Region("Texas", "state", "Austin", None, ("Dallas", "Houston", "Lubbock", "Waco")),
    Region("California", "state", "Sacramento", None, ("Fresno", "Oakland", "Bakersfield")),
    Region("Florida", "state", "Tallahassee", None, ("Miami", "Orlando", "Tampa")),
    Region("Illinois", "state", "Springfield", None, ("Chicago", "Peoria", "Rockford")),
    Region("Washington", "state", "Olympia", None, ("Seattle", "Spokane", "Tacoma")),
    Region("Georgia", "state", "Atlanta", None, ("Savannah", "Augusta", "Macon")),
    Region("Ohio", "state", "Columbus", None, ("Cleveland", "Cincinnati", "Toledo")),
    Region("Pennsylvania", "state", "Harrisburg", None, ("Philadelphia", "Pittsburgh", "Erie")),
    Region("Massachusetts", "state", "Boston", None, ("Worcester", "Lowell", "Cambridge")),
    Region("Michigan", "state", "Lansing", None, ("Detroit", "Flint", "Kalamazoo")),
    Region("Arizona", "state", "Phoenix", None, ("Tucson", "Mesa", "Flagstaff")),
    Region("Colorado", "state", "Denver", None, ("Boulder", "Aspen", "Pueblo")),
    Region("Tennessee", "state", "Nashville", None, ("Memphis", "Knoxville", "Chattanooga")),
    Region("Oregon", "state", "Salem", None, ("Portland", "Eugene", "Bend")),
    Region("France", "country", "Paris", "French", ("Lyon", "Marseille", "Nice")),
    Region("Germany", "country", "Berlin", "German", ("Munich", "Hamburg", "Cologne")),
    Region("Italy", "country", "Rome", "Italian", ("Milan", "Naples", "Turin")),
    Region("Spain", "country", "Madrid", "Spanish", ("Barcelona", "Seville", "Valencia")),
    Region("Japan", "country", "Tokyo", "Japanese", ("Osaka", "Kyoto", "Nagoya")),
    Region("China", "country", "Beijing", "Chinese", ("Shanghai", "Shenzhen", "Chengdu")),
    Region("Russia", "country", "Moscow", "Russian", ("Novosibirsk", "Kazan", "Omsk")),
    Region("Brazil", "country", "Brasilia", "Portuguese", ("Salvador", "Recife", "Manaus")),
    Region("Egypt", "country", "Cairo", "Arabic", ("Alexandria", "Luxor", "Aswan")),
    Region("Greece", "country", "Athens", "Greek", ("Thessaloniki", "Patras", "Larissa")),
    Region("Netherlands", "country", "Amsterdam", "Dutch", ("Rotterdam", "Utrecht", "Eindhoven")),
    Region("Poland", "country", "Warsaw", "Polish", ("Krakow", "Gdansk", "Wroclaw")),
    Region("Turkey", "country", "Ankara", "Turkish", ("Istanbul", "Izmir", "Bursa")),
    Region("Sweden", "country", "Stockholm", "Swedish", ("Gothenburg", "Malmo", "Uppsala")),
    Region("Norway", "country", "Oslo", "Norwegian", ("Bergen", "Trondheim", "Stavanger")),
    Region("Austria", "country", "Vienna", "German", ("Salzburg", "Graz", "Linz")),
)

ANTONYMS: tuple[tuple[str, str], ...] = (
    ("hot", "cold"),
    ("big", "small"),
    ("fast", "slow"),
    ("happy", "sad"),
    ("light", "dark"),
    ("up", "down"),
    ("open", "closed"),
    ("rich", "poor"),
    ("early", "late"),
    ("strong", "weak"),
    ("hard", "soft"),
    ("full", "empty"),
    ("young", "old"),
    ("wet", "dry"),
    ("loud", "quiet"),
    ("high", "low"),
    ("thick", "thin"),
    ("clean", "dirty"),
    ("good", "bad"),
    ("true", "false"),
    ("near", "far"),
    ("love", "hate"),
    ("win", "lose"),
    ("day", "night"),
)

NAMES: tuple[str, ...] = (
    "Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "Jack",
    "Karen", "Liam", "Maria", "Noah", "Olivia", "Peter", "Quinn", "Rosa", "Sam", "Tina",
    "Umar", "Vera", "Walter", "Xena", "Yusuf", "Zoe", "Anna", "Ben", "Clara", "Dan",
)  # fmt: skip

# Cities whose two-hop questions never appear in training (their region facts do): the composition test.
# One per region, chosen so that the showcase prompts (Dallas, Lyon) stay in the training set.
HELD_OUT_CITIES: frozenset[str] = frozenset(region.cities[-1] for region in REGIONS)
