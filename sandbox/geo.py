"""A small gazetteer: countries, their regions, cities and postal-code shapes.

Postal codes are generated from a per-city prefix so that country, state, city and postal
code always agree, as they do in a clean CRM.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class City:
    name: str
    state: str
    prefix: str  # postal prefix the city's codes start with


@dataclass(frozen=True)
class Country:
    code: str
    weight: float
    tld: str
    postal: str  # shape after the prefix: 9 digit, A letter, space kept
    legal: tuple[str, ...]  # legal-form suffixes, '' for none
    cities: tuple[City, ...]


COUNTRIES: tuple[Country, ...] = (
    Country("US", 0.44, "com", "99", ("Inc.", "LLC", "", "", "Co.", "Corp."), (
        City("Seattle", "WA", "981"), City("Bellevue", "WA", "980"), City("Spokane", "WA", "992"),
        City("Portland", "OR", "972"), City("San Francisco", "CA", "941"),
        City("San Jose", "CA", "951"), City("Los Angeles", "CA", "900"),
        City("San Diego", "CA", "921"), City("Sacramento", "CA", "958"),
        City("Phoenix", "AZ", "850"), City("Denver", "CO", "802"), City("Austin", "TX", "787"),
        City("Dallas", "TX", "752"), City("Houston", "TX", "770"), City("Chicago", "IL", "606"),
        City("Minneapolis", "MN", "554"), City("Detroit", "MI", "482"),
        City("Columbus", "OH", "432"), City("Atlanta", "GA", "303"), City("Miami", "FL", "331"),
        City("Orlando", "FL", "328"), City("Tampa", "FL", "336"), City("Charlotte", "NC", "282"),
        City("Raleigh", "NC", "276"), City("Nashville", "TN", "372"),
        City("Boston", "MA", "021"), City("New York", "NY", "100"), City("Buffalo", "NY", "142"),
        City("Philadelphia", "PA", "191"), City("Pittsburgh", "PA", "152"),
        City("Baltimore", "MD", "212"), City("Salt Lake City", "UT", "841"),
        City("Kansas City", "MO", "641"), City("St. Louis", "MO", "631"),
    )),
    Country("GB", 0.12, "co.uk", " 9AA", ("Ltd", "Limited", "", "LLP"), (
        City("London", "England", "EC1"), City("London", "England", "SW1"),
        City("Manchester", "England", "M1"), City("Leeds", "England", "LS1"),
        City("Birmingham", "England", "B2"), City("Bristol", "England", "BS1"),
        City("Newcastle upon Tyne", "England", "NE1"), City("Reading", "England", "RG1"),
        City("Edinburgh", "Scotland", "EH2"), City("Glasgow", "Scotland", "G2"),
        City("Cardiff", "Wales", "CF10"), City("Belfast", "Northern Ireland", "BT1"),
    )),
    Country("DE", 0.09, "de", "999", ("GmbH", "GmbH", "AG", "KG", "GmbH & Co. KG"), (
        City("Berlin", "Berlin", "10"), City("München", "Bayern", "80"),
        City("Nürnberg", "Bayern", "90"), City("Hamburg", "Hamburg", "20"),
        City("Köln", "Nordrhein-Westfalen", "50"), City("Düsseldorf", "Nordrhein-Westfalen", "40"),
        City("Frankfurt am Main", "Hessen", "60"), City("Stuttgart", "Baden-Württemberg", "70"),
        City("Leipzig", "Sachsen", "04"), City("Hannover", "Niedersachsen", "30"),
    )),
    Country("FR", 0.07, "fr", "999", ("SAS", "SARL", "SA", ""), (
        City("Paris", "Île-de-France", "75"), City("Lyon", "Auvergne-Rhône-Alpes", "69"),
        City("Marseille", "Provence-Alpes-Côte d'Azur", "13"), City("Toulouse", "Occitanie", "31"),
        City("Nantes", "Pays de la Loire", "44"), City("Lille", "Hauts-de-France", "59"),
        City("Bordeaux", "Nouvelle-Aquitaine", "33"),
    )),
    Country("CA", 0.07, "ca", "A 9A9", ("Inc.", "Ltd.", "Corp.", ""), (
        City("Toronto", "ON", "M5"), City("Ottawa", "ON", "K1"), City("Mississauga", "ON", "L5"),
        City("Montréal", "QC", "H2"), City("Québec", "QC", "G1"), City("Vancouver", "BC", "V6"),
        City("Calgary", "AB", "T2"), City("Edmonton", "AB", "T5"), City("Winnipeg", "MB", "R3"),
    )),
    Country("AU", 0.06, "com.au", "99", ("Pty Ltd", "Pty Ltd", ""), (
        City("Sydney", "NSW", "20"), City("Newcastle", "NSW", "23"), City("Melbourne", "VIC", "30"),
        City("Brisbane", "QLD", "40"), City("Perth", "WA", "60"), City("Adelaide", "SA", "50"),
    )),
    Country("NL", 0.05, "nl", "99 AA", ("B.V.", "B.V.", ""), (
        City("Amsterdam", "Noord-Holland", "10"), City("Haarlem", "Noord-Holland", "20"),
        City("Rotterdam", "Zuid-Holland", "30"), City("Den Haag", "Zuid-Holland", "25"),
        City("Utrecht", "Utrecht", "35"), City("Eindhoven", "Noord-Brabant", "56"),
    )),
    Country("ES", 0.04, "es", "999", ("S.L.", "S.A.", ""), (
        City("Madrid", "Comunidad de Madrid", "28"), City("Barcelona", "Cataluña", "08"),
        City("Valencia", "Comunidad Valenciana", "46"), City("Sevilla", "Andalucía", "41"),
        City("Málaga", "Andalucía", "29"), City("Bilbao", "País Vasco", "48"),
    )),
    Country("IE", 0.03, "ie", " A999", ("Ltd", "DAC", ""), (
        City("Dublin", "Leinster", "D02"), City("Dublin", "Leinster", "D04"),
        City("Cork", "Munster", "T12"), City("Galway", "Connacht", "H91"),
        City("Limerick", "Munster", "V94"),
    )),
    Country("IT", 0.03, "it", "999", ("S.r.l.", "S.p.A.", ""), (
        City("Milano", "Lombardia", "20"), City("Roma", "Lazio", "00"),
        City("Torino", "Piemonte", "10"), City("Bologna", "Emilia-Romagna", "40"),
        City("Firenze", "Toscana", "50"),
    )),
)


def postal_code(country: Country, city: City, rand: list[int]) -> str:
    """A postal code for ``city``: its prefix followed by ``country.postal``'s shape.

    ``rand`` holds at least six small non-negative integers used in order.
    """
    out = [city.prefix]
    i = 0
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    for ch in country.postal:
        if ch == "9":
            out.append(str(rand[i] % 10))
            i += 1
        elif ch == "A":
            out.append(letters[rand[i] % len(letters)])
            i += 1
        else:
            out.append(ch)
    return "".join(out)
