"""Word lists for the synthetic city: first and last names, streets, postcodes, schools.

Written for Entitle (not copied from a register). Names are grouped in pools by the region of a
person's nationality; Flemish first names are split by birth cohort so that grandparents and
grandchildren do not share a fashion. Street names mix well-known Ghent-style names with
combinations of a root and a suffix, which gives a few hundred plausible streets.
"""

from __future__ import annotations

from typing import Final


def _words(text: str) -> list[str]:
    """The whitespace-separated words of a text block (an underscore stands for a space)."""
    return [word.replace("_", " ") for word in text.split()]


# ----------------------------------------------------------------------------- regions

# Name regions. A person's first and last names come from the region of their household's
# nationality (a Belgian child of a Moroccan household is more likely to be called Yasmina).
REGIONS: Final = ("nl", "east", "romance", "mena", "africa", "asia")

# (ISO 3166 alpha-2, name region, weight among households, asylum country: may be in the waiting
# register). Weights give about 18% non-Belgians, a little above Ghent's share of some 16%.
NATIONALITIES: Final[tuple[tuple[str, str, float, bool], ...]] = (
    ("BE", "nl", 0.815, False),
    ("NL", "nl", 0.020, False),
    ("BG", "east", 0.030, False),
    ("RO", "east", 0.014, False),
    ("PL", "east", 0.012, False),
    ("SK", "east", 0.006, False),
    ("UA", "east", 0.005, False),
    ("RU", "east", 0.003, False),
    ("ES", "romance", 0.008, False),
    ("IT", "romance", 0.006, False),
    ("FR", "romance", 0.007, False),
    ("PT", "romance", 0.004, False),
    ("TR", "mena", 0.012, False),
    ("MA", "mena", 0.012, False),
    ("SY", "mena", 0.008, True),
    ("AF", "mena", 0.006, True),
    ("IQ", "mena", 0.003, True),
    ("PS", "mena", 0.002, True),
    ("DZ", "mena", 0.002, False),
    ("CD", "africa", 0.003, False),
    ("ER", "africa", 0.003, True),
    ("GN", "africa", 0.002, True),
    ("SO", "africa", 0.002, True),
    ("CM", "africa", 0.002, False),
    ("NG", "africa", 0.001, False),
    ("IN", "asia", 0.004, False),
    ("CN", "asia", 0.003, False),
    ("PK", "asia", 0.002, False),
    ("NP", "asia", 0.001, False),
)

# ----------------------------------------------------------------------------- first names

_NL_MALE_OLD = _words(
    """
Jan Luc Marc Dirk Patrick Peter Johan Geert Filip Koen Paul Jozef Willy André Eddy Rudi Guido
Frank Erik Chris Bart Stefaan Wim Danny Hugo Roger Marcel Georges Albert Gilbert Herman Walter
Etienne Norbert Freddy Lucien Raymond Robert Jean Hendrik Karel Ivan Ronny Steven Kurt Jurgen Gert
Carl Werner Jacques Julien Gustaaf Michel Alfons Rik Jos Fernand Antoon Ludo Noël Omer Cyriel
Gaston Maurice Valère Roland Daniel Alain Didier Ignace Lieven Joris Pascal Hans
"""
)

_NL_MALE_NEW = _words(
    """
Lucas Noah Liam Louis Arthur Jules Finn Mathis Leon Vic Adam Victor Lowie Mats Warre Nand Stan
Seppe Lars Milan Wout Thibo Robbe Jonas Arne Pieter Simon Tibo Ruben Bram Thomas Jens Niels Kobe
Sander Dries Jasper Wannes Tuur Staf Rune Elias Maxime Emiel Oscar Ferre Matteo Jack Otis Gust Lou
Mauro Jef Hannes Senne Brent Glenn Kevin Yannick Michiel Ward Lander Jorre Tijs Cas Wolf Viktor
Matthias Sebastiaan Joachim Frederik Gilles Bavo Lennert Korneel
"""
)

_NL_FEMALE_OLD = _words(
    """
Maria Anna Martine Christiane Monique Nicole Rita Annie Hilde Ann Katrien Veerle Els Sofie Inge
Kristien Greet Lieve Marleen Brigitte Godelieve Jeanine Simonne Yvonne Paula Jacqueline Denise
Germaine Agnes Margriet Rosa Irène Mariette Linda Carine Chantal Sonja Nadine Patricia Anja Karin
Nancy Mieke Leen Griet Ingrid Isabelle Sabine Viviane Josée Lutgart Magda Sylvia Bernadette Gerda
Lea Martha Rosette Paulette Ghislaine Ria Dominique Hilda Mia Lydia Marijke An Heidi Kathleen
"""
)

_NL_FEMALE_NEW = _words(
    """
Olivia Emma Louise Mila Alice Juliette Elena Marie Nora Lina Ella Fleur Noor Lotte Jana Hanne Laura
Lien Eline Fien Febe Lore Amber Marthe Lisa Julie Charlotte Sara Elise Hannah Lena Luna Zoë Liv
Ines Margot Camille Paulien Anouk Yana Silke Femke Jolien Kaat Tine Evy Stien Nele Jente Axelle
Estelle Roos Mona Loes Wies Bo Jade Lucie Helena Aline Floor Tess Lise Rosalie Merel Ellen Ilse
Annelies Leentje Saartje Ruth Emilie Joke
"""
)

_EAST_MALE = _words(
    """
Ivan Georgi Dimitar Nikolai Stefan Mihai Andrei Ion Piotr Tomasz Krzysztof Pavel Marek Jakub
Oleksandr Dmytro Sergei Vasile Bogdan Martin Radu Florin Plamen Hristo
"""
)
_EAST_FEMALE = _words(
    """
Maria Elena Ivana Desislava Petya Ioana Andreea Mihaela Anna Katarzyna Agnieszka Magdalena Zuzana
Oksana Olena Natalia Svetlana Daniela Gabriela Iryna Raluca Yordanka Monika Alina
"""
)
_ROMANCE_MALE = _words(
    """
Carlos Javier Pablo Marco Luca Giuseppe Antonio João Pedro Nicolas Julien Pierre Alessandro Miguel
Rui François Lorenzo Diego Manuel Thierry Sergio Matteo Hugo Álvaro
"""
)
_ROMANCE_FEMALE = _words(
    """
Carmen Lucía Laura Giulia Francesca Chiara Ana Inês Beatriz Sophie Camille Élodie Isabel Sofia
Marta Valentina Aurélie Margaux Paola Rosa Elisa Mariana Claire Pilar
"""
)
_MENA_MALE = _words(
    """
Mohamed Ahmed Youssef Omar Ali Hassan Mustafa Mehmet Emre Yusuf Ibrahim Khalid Karim Bilal Hamza
Samir Rachid Abdullah Murat Ayoub Ilias Anas Mahmoud Hakan Ismail Tarik
"""
)
_MENA_FEMALE = _words(
    """
Fatima Aïcha Khadija Meryem Zeynep Elif Amina Salma Nour Yasmina Hatice Leila Samira Sara Imane
Ayse Zahra Maryam Hanane Rania Soukaina Malika Esra Hiba Lamia Dounia
"""
)
_AFRICA_MALE = _words(
    """
Jean-Pierre Patrice Moussa Mamadou Abdi Yonas Tesfay Dawit Emmanuel Christian Joseph Ibrahima
Amadou Samuel Daniel Kofi Alain Cédric Abdirahman Tekle Fiston Serge
"""
)
_AFRICA_FEMALE = _words(
    """
Grace Esther Mariama Aminata Fatoumata Hawa Saba Selam Hiwet Nadège Chantal Ruth Deborah Blessing
Mercy Fadumo Hodan Aisha Christelle Josiane Furaha Senait
"""
)
_ASIA_MALE = _words(
    """
Rahul Amit Arjun Vikram Rohan Sanjay Wei Jun Hao Ming Imran Usman Faisal Bikash Suresh Raj
"""
)
_ASIA_FEMALE = _words(
    """
Priya Anjali Neha Pooja Divya Kavya Li Mei Xin Yan Ayesha Sana Hina Sunita Anita Lakshmi
"""
)

# Pools of first names: (region, sex, cohort). Cohort "old" is used for people born before 1980,
# "new" from 1980; only the Flemish pool distinguishes them.
FIRST_NAME_POOLS: Final[dict[tuple[str, str, str], list[str]]] = {
    ("nl", "M", "old"): _NL_MALE_OLD,
    ("nl", "M", "new"): _NL_MALE_NEW,
    ("nl", "F", "old"): _NL_FEMALE_OLD,
    ("nl", "F", "new"): _NL_FEMALE_NEW,
    ("east", "M", ""): _EAST_MALE,
    ("east", "F", ""): _EAST_FEMALE,
    ("romance", "M", ""): _ROMANCE_MALE,
    ("romance", "F", ""): _ROMANCE_FEMALE,
    ("mena", "M", ""): _MENA_MALE,
    ("mena", "F", ""): _MENA_FEMALE,
    ("africa", "M", ""): _AFRICA_MALE,
    ("africa", "F", ""): _AFRICA_FEMALE,
    ("asia", "M", ""): _ASIA_MALE,
    ("asia", "F", ""): _ASIA_FEMALE,
}

# ----------------------------------------------------------------------------- last names

_NL_LAST = _words(
    """
Peeters Janssens Maes Jacobs Mertens Willems Claes Goossens Wouters De_Smet Vermeulen
Van_den_Broeck Hermans Aerts Michiels Lambrechts De_Vos Smets Pauwels Claeys De_Clercq
Verstraeten Van_Damme De_Backer Stevens Cools De_Wolf Desmet Martens Van_de_Velde De_Cock
Vandenberghe Verhaeghe De_Meyer Declercq Coppens Van_Hecke De_Bruyne Vercammen Segers Leemans
Vervaet De_Baets Van_Acker De_Wilde Van_Hoecke Vandamme De_Keyser Bogaert Van_Landeghem Dhondt
De_Groote Van_der_Linden Verbeke Verschueren Van_Gucht De_Paepe Standaert Lippens Vanhove Buyse
De_Mulder Vanderstraeten Van_Wassenhove De_Schepper Van_Laere Dewaele Baert Rogiers Van_Parys
De_Coninck Van_Belle Maenhout Van_Hove Schepens Boone Vermeersch Van_Daele De_Jonghe Blondeel
Coene Van_Impe De_Buck Heyse Van_Renterghem De_Gendt Van_Cauwenberghe Willaert Thienpont
Van_Nieuwenhuyse Meersman Dierickx De_Rycke Van_Vooren Van_den_Bossche Callebaut D'hooge Moerman
Temmerman De_Rouck Van_der_Meersch Bracke Van_Hulle Haesaert Eeckhout De_Waele Verhelst Everaert
Stockman Naessens Van_Overmeire Geerts Hendrickx Wuyts Verlinden Van_Looy Bosmans Vermeiren
Dierckx Mees Van_Dyck Lenaerts Vanderlinden Put Vandevelde Verhoeven Laenen Van_Aken Matthys
Dewulf Lauwers Roels Ghysels Van_Eeckhoutte Gevaert De_Pauw Vanackere Cornelis Tack Vandewalle
Vanneste Demeyer Desmedt Verbrugghe Lefever Seynaeve Verstraete Van_Hoorebeke Rombaut
Van_de_Walle Nuytten Vanhoutte De_Roo Sabbe Maertens Delbeke Lecluyse Vandenbussche Vanhee Decock
Soenen Vermeire Van_Steenkiste Dewitte Beernaert Deconinck Neyt Goethals Vanlerberghe Van_Hoof
Hoste De_Vriendt Van_Bockstaele Van_de_Putte Mortier Verbeeck Van_Caeneghem De_Moor Van_Mol
Bauwens Van_Hamme Van_Geert Van_der_Heyden Dobbelaere Vanthournout De_Vlieger Van_Wonterghem
Criel Van_Overbeke Van_Nevel De_Bock Loncke Van_Poucke Ryckaert D'haese Van_Vlaenderen
Van_den_Abeele Speleman Van_Driessche Van_Cleemput Hellebaut Audenaert Van_Nuffel De_Mey Minnaert
Lammens Van_Kerckhove De_Schrijver Van_Hoeymissen Bollaert Van_Gysel De_Craene Van_Laethem
Stragier Van_Maele Cauwels Van_Zele De_Wever Van_Biesen Vanderhaeghen De_Muynck Van_Hyfte
Cardoen Van_Damme-Pieters De_Sutter Van_Lancker Rysman Van_de_Vijver Van_Vlierberghe Steyaert
Van_Hoorde De_Ridder Van_Quickenborne Vanmaercke Van_Eenoo Verdonck De_Baere Poppe Van_Melle
"""
)

_EAST_LAST = _words(
    """
Ivanov Petrov Georgiev Dimitrov Nikolova Popescu Ionescu Popa Radu Stan Nowak Kowalski
Wiśniewski Wójcik Kowalczyk Horváth Novák Kováč Shevchenko Kovalenko Bondarenko Smirnov Ivanova
Stoyanov Todorov Angelov Marinescu Dumitru Zielinski Lewandowski
"""
)
_ROMANCE_LAST = _words(
    """
García Fernández González Rodríguez López Martínez Rossi Russo Ferrari Esposito Bianchi Romano
Silva Santos Ferreira Pereira Oliveira Costa Martin Bernard Dubois Thomas Robert Richard Petit
Durand Leroy Moreau Conti Ricci
"""
)
_MENA_LAST = _words(
    """
El_Amrani Benali El_Idrissi Bouzid Yilmaz Kaya Demir Şahin Çelik Aydın Öztürk Arslan Doğan
Haddad Al-Hassan Khalil Mansour Nasser Hashimi Ahmadi Rahimi Karimi El_Khattabi Ouali Bakkali
Chakir Aziz Saidi Bennani Amrani
"""
)
_AFRICA_LAST = _words(
    """
Mbala Kabila Lukusa Tshibanda Ilunga Mukendi Kasongo Tesfaye Haile Gebremedhin Bekele Diallo
Barry Bah Camara Sow Touré Mohamed_Abdi Warsame Farah Nkomo Okafor Adeyemi Fotso Nguema Mbeki
Kamara Mensah Owusu Ndiaye
"""
)
_ASIA_LAST = _words(
    """
Sharma Patel Singh Kumar Gupta Reddy Shah Khan Ahmed Hussain Wang Li Zhang Liu Chen Yang Huang
Zhao Wu Zhou Thapa Gurung Shrestha Malik Iqbal Chaudhry Rao Nair Das Bose
"""
)

LAST_NAME_POOLS: Final[dict[str, list[str]]] = {
    "nl": _NL_LAST,
    "east": _EAST_LAST,
    "romance": _ROMANCE_LAST,
    "mena": _MENA_LAST,
    "africa": _AFRICA_LAST,
    "asia": _ASIA_LAST,
}

# ----------------------------------------------------------------------------- places

GHENT_NIS: Final = "44021"

# Ghent's postcodes with their (approximate) share of the population.
GHENT_POSTCODES: Final[tuple[tuple[str, float], ...]] = (
    ("9000", 0.45),
    ("9030", 0.055),
    ("9031", 0.05),
    ("9032", 0.035),
    ("9040", 0.11),
    ("9041", 0.05),
    ("9042", 0.012),
    ("9050", 0.13),
    ("9051", 0.03),
    ("9052", 0.025),
)

# Neighbouring and other Flemish municipalities (NIS, postcode) where an unregistered cohabitant
# may still be registered.
OTHER_MUNICIPALITIES: Final[tuple[tuple[str, str], ...]] = (
    ("44013", "9070"),  # Destelbergen
    ("44019", "9940"),  # Evergem
    ("44034", "9080"),  # Lochristi
    ("44012", "9840"),  # De Pinte
    ("44064", "9830"),  # Sint-Martens-Latem
    ("44083", "9800"),  # Deinze
    ("44085", "9930"),  # Lievegem
    ("11002", "2000"),  # Antwerpen
)

# The OCMW's reference address for people without a home (Ghent's social services, Onderbergen).
OCMW_ADDRESS: Final = ("9000", "Onderbergen", "86")

_GHENT_STREETS = _words(
    """
Veldstraat Korenmarkt Sint-Pietersnieuwstraat Overpoortstraat Kortrijksesteenweg
Brusselsesteenweg Dampoortstraat Sleepstraat Wondelgemstraat Antwerpsesteenweg Brugsesteenweg
Drongensesteenweg Oudenaardsesteenweg Hundelgemsesteenweg Kortrijksepoortstraat
Sint-Amandsbergse_Dreef Dendermondsesteenweg Rooigemlaan Kastanjelaan Ottergemsesteenweg
Sint-Denijslaan Zwijnaardsesteenweg Heirnislaan Forelstraat Meulestedesteenweg Tolhuislaan
Groendreef Voormuide Patershol Coupure_Links Coupure_Rechts Lange_Violettestraat
Sint-Lievenslaan Burgstraat Nederkouter Hoogpoort Onderstraat Kraanlei Oudburg Vrijdagmarkt
Steendam Sint-Jacobsnieuwstraat Brabantdam Kuiperskaai Frère-Orbanlaan Citadellaan
Koning_Albertlaan Sint-Pietersplein Blandijnberg Muinkkaai Visserij Lieven_Bauwensplein
Gebroeders_Vandeveldestraat Jozef_Guislainstraat Gasmeterlaan Afrikalaan Neuseplein
Bevrijdingslaan Palinghuizen Noordstraat Ekkergemstraat Phoenixstraat Wiedauwkaai Ham
Sint-Salvatorstraat Elyzeese_Velden Oostakkerdorp Eksaardserijweg Kapellestraat Boerhaavelaan
Francisco_Ferrerlaan Sint-Bernadettestraat Kolegemstraat Lourdesstraat Land_van_Waaslaan
Van_Beverenplein Leopold_II-laan Bellevuestraat Oude_Brusselseweg Hoveniersberg
Sint-Kwintensberg Tweebruggenstraat Kasteellaan Gentbruggestraat Jules_de_Saint-Genoisstraat
Leiekaai Pantserschipstraat Tijgerstraat Wolterslaan Dorpstraat Stationsstraat Kerkstraat
Molenstraat Schoolstraat Nieuwstraat Kouter Zandberg
"""
)

_STREET_ROOTS = _words(
    """
Beuken Eiken Linden Esdoorn Berken Wilgen Populieren Kastanje Hazelaar Vlier Meidoorn Jasmijn
Rozen Tulpen Lelie Klaver Margriet Viooltjes Hyacinten Anjer Narcissen Seringen Zonnebloem
Akker Beemd Bos Brem Heide Kouter Meers Weide Velde Broek Donk Gaver Hoek Kruis Molen Vijver
Bakkers Smeders Wevers Vissers Brouwers Kuipers Schippers Touwslagers Spinners Vlasbloem
Sint-Jozef Sint-Jan Sint-Antonius Sint-Barbara Sint-Martens Sint-Lucas Sint-Elooi Sint-Agnes
Artevelde Van_Eyck Memling Breydel Ledeganck Maeterlinck Conscience Rodenbach Gezelle Streuvels
Van_Rysselberghe Minne Permeke Ensor Daens Vooruit Leie Schelde Lieve Moervaart Kale Durme
Noord Zuid Oost West Hoog Laag Nieuw Oud Groen Rood Wit Zwart Lang Kort Klein Groot
"""
)
_STREET_SUFFIXES = ("straat", "laan", "dreef", "plein", "weg", "hof", "kaai", "pad", "wegel")


def street_names() -> list[str]:
    """A few hundred Ghent-style street names, without duplicates, in a fixed order."""
    names: list[str] = list(_GHENT_STREETS)
    for index, root in enumerate(_STREET_ROOTS):
        # Two suffixes per root, chosen by position so the list is fixed; Dutch compounds are
        # written as one word ("Van Eyckstraat", "Beukenlaan").
        for step in (0, 4):
            names.append(root + _STREET_SUFFIXES[(index + step) % len(_STREET_SUFFIXES)])
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        if name not in seen:
            seen.add(name)
            unique.append(name)
    return unique


# ----------------------------------------------------------------------------- schools

_SCHOOL_THEMES = _words(
    """
De_Regenboog De_Vlieger Het_Klavertje De_Toverfluit Het_Spoor De_Kleine_Wereld De_Boomhut
Het_Zonnetje De_Wonderwijzer De_Zeppelin De_Vuurtoren Het_Kompas De_Sterrenkijker De_Pluim
Het_Mozaïek De_Wereldbol De_Tuimelaar Het_Lijsterbesje De_Krekel De_Vlinder De_Kastanje
Het_Anker De_Horizon De_Koraal De_Parel De_Brug Het_Ooievaarsnest De_Ster De_Waaier Het_Molentje
"""
)
_SAINTS = _words(
    """
Sint-Jozef Sint-Barbara Sint-Lutgardis Sint-Amandus Sint-Bavo Sint-Vincentius Sint-Paulus
Sint-Salvator Sint-Jan Sint-Lieven Sint-Vincentius_a_Paulo Sint-Theresia Sint-Gerolf Sint-Martinus
Sint-Camillus Sint-Coleta Sint-Godelieve Sint-Elisabeth Sint-Pieter Sint-Agnes
"""
)


def school_names(kind: str, count: int) -> list[str]:
    """`count` school names of a kind: city, go, free (primary) or city2, go2, free2 (secondary)."""
    themes, saints = _SCHOOL_THEMES, _SAINTS
    names: list[str] = []
    for index in range(count):
        round_ = index // len(themes)
        suffix = f" {round_ + 1}" if round_ else ""
        theme = themes[index % len(themes)]
        saint = saints[index % len(saints)]
        saint_round = index // len(saints)
        saint_suffix = f" {saint_round + 1}" if saint_round else ""
        if kind == "city":
            names.append(f"Stedelijke Basisschool {theme}{suffix}")
        elif kind == "go":
            names.append(f"GO! Basisschool {theme}{suffix}")
        elif kind == "free":
            names.append(f"Vrije Basisschool {saint}{saint_suffix}")
        elif kind == "city2":
            names.append(f"Stedelijk Lyceum {theme}{suffix}")
        elif kind == "go2":
            names.append(f"GO! Atheneum {theme}{suffix}")
        elif kind == "free2":
            names.append(f"{saint}college{saint_suffix}")
        else:
            raise ValueError(f"unknown school kind {kind!r}")
    return names
