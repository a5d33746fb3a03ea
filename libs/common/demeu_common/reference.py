"""Reference data of the contract: Kazakhstan's regions and the project categories."""

# ISO 3166-2:KZ first-level units: code -> names in Kazakh, Russian and English.
REGIONS = {
    "KZ-10": {"kk": "Абай облысы", "ru": "Абайская область", "en": "Abai Region"},
    "KZ-11": {"kk": "Ақмола облысы", "ru": "Акмолинская область", "en": "Akmola Region"},
    "KZ-15": {"kk": "Ақтөбе облысы", "ru": "Актюбинская область", "en": "Aktobe Region"},
    "KZ-19": {"kk": "Алматы облысы", "ru": "Алматинская область", "en": "Almaty Region"},
    "KZ-23": {"kk": "Атырау облысы", "ru": "Атырауская область", "en": "Atyrau Region"},
    "KZ-27": {"kk": "Батыс Қазақстан облысы", "ru": "Западно-Казахстанская область",
              "en": "West Kazakhstan Region"},
    "KZ-31": {"kk": "Жамбыл облысы", "ru": "Жамбылская область", "en": "Jambyl Region"},
    "KZ-33": {"kk": "Жетісу облысы", "ru": "Область Жетысу", "en": "Jetisu Region"},
    "KZ-35": {"kk": "Қарағанды облысы", "ru": "Карагандинская область", "en": "Karaganda Region"},
    "KZ-39": {"kk": "Қостанай облысы", "ru": "Костанайская область", "en": "Kostanay Region"},
    "KZ-43": {"kk": "Қызылорда облысы", "ru": "Кызылординская область", "en": "Kyzylorda Region"},
    "KZ-47": {"kk": "Маңғыстау облысы", "ru": "Мангистауская область", "en": "Mangystau Region"},
    "KZ-55": {"kk": "Павлодар облысы", "ru": "Павлодарская область", "en": "Pavlodar Region"},
    "KZ-59": {"kk": "Солтүстік Қазақстан облысы", "ru": "Северо-Казахстанская область",
              "en": "North Kazakhstan Region"},
    "KZ-61": {"kk": "Түркістан облысы", "ru": "Туркестанская область", "en": "Turkistan Region"},
    "KZ-62": {"kk": "Ұлытау облысы", "ru": "Улытауская область", "en": "Ulytau Region"},
    "KZ-63": {"kk": "Шығыс Қазақстан облысы", "ru": "Восточно-Казахстанская область",
              "en": "East Kazakhstan Region"},
    "KZ-71": {"kk": "Астана", "ru": "Астана", "en": "Astana"},
    "KZ-75": {"kk": "Алматы", "ru": "Алматы", "en": "Almaty"},
    "KZ-79": {"kk": "Шымкент", "ru": "Шымкент", "en": "Shymkent"},
}

REGION_CODES = tuple(REGIONS)

CATEGORIES = ("science", "culture", "creative", "education", "technology", "charity")

CURRENCY = "KZT"

LOCALES = ("kk", "ru", "en")
