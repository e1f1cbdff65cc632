"""Word lists for the simulated world. Kept small and ASCII-safe where they become email addresses."""

SYLLABLES = [
    "al", "bra", "cor", "dan", "el", "fin", "gra", "hal", "in", "jet", "kal", "lum", "mar", "nor", "oro",
    "pax", "quin", "ra", "sol", "tor", "ul", "ver", "wil", "xen", "yor", "zen", "ark", "bel", "cy", "dro",
    "em", "flo", "gen", "hex", "io", "jun", "kip", "lex", "mo", "nex", "op", "pro", "qua", "riv", "sy",
    "tri", "um", "vo", "wav", "zo", "ban", "cas", "dex", "fal", "gal", "hub", "ion", "lan", "mer", "tek",
]
COMPANY_SUFFIXES = ["Labs", "Systems", "Health", "Logistics", "Cloud", "Analytics", "Group", "Software", "Bank", "Works"]
TLDS = [".com", ".io", ".co", ".ai", ".net", ".de"]

INDUSTRIES = [
    "Software", "Fintech", "Healthcare", "Manufacturing", "Retail", "Logistics", "Education", "Media", "Energy",
    "Government",
]
# industry -> ICP affinity (0..1); the scoring seeds of a later issue mirror these in `seeds/icp_rules`.
INDUSTRY_FIT = [1.0, 0.9, 0.7, 0.5, 0.4, 0.5, 0.2, 0.3, 0.3, 0.1]

TERRITORIES = ["NA", "EMEA", "APAC"]
COUNTRIES = {  # territory -> countries
    "NA": ["US", "CA"],
    "EMEA": ["GB", "DE", "FR", "NL", "SE"],
    "APAC": ["AU", "SG", "JP", "IN"],
}
TERRITORY_WEIGHTS = [0.55, 0.30, 0.15]
TERRITORY_FIT = [1.0, 0.8, 0.5]

FUNDING_STAGES = ["bootstrapped", "seed", "series_a", "series_b", "series_c", "growth", "public"]

FIRST_NAMES = [
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth", "William",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Daniel", "Lisa",
    "Matthew", "Nancy", "Anthony", "Sandra", "Mark", "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Paul",
    "Amanda", "Joshua", "Melissa", "Kevin", "Laura", "Brian", "Anna", "George", "Sofia", "Lukas", "Emma", "Noah",
    "Mia", "Hiroshi", "Yuki", "Priya", "Arjun", "Chen", "Wei", "Fatima", "Omar", "Lars", "Ingrid", "Pierre",
    "Chloe", "Mateo", "Lucia", "Aisha", "Kwame", "Olga", "Ivan", "Sven", "Freya",
]
# A few names carry accents: identity resolution must fold them (docs/identity.md); emails use the ASCII form.
ACCENTED_FIRST_NAMES = {"Jose": "José", "Zoe": "Zoë", "Rene": "René", "Bjorn": "Björn", "Ines": "Inês"}
FIRST_NAMES += list(ACCENTED_FIRST_NAMES)
LAST_NAMES = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
    "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker",
    "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson",
    "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Schmidt", "Schneider", "Fischer",
    "Weber", "Tanaka", "Suzuki", "Sato", "Patel", "Sharma", "Kumar", "Wang", "Li", "Zhang", "Dubois", "Laurent",
    "Johansson", "Larsson", "Novak", "Kowalski", "Rossi", "Ferrari", "Silva", "Santos", "Okafor", "Mensah",
]
ACCENTED_LAST_NAMES = {"Muller": "Müller", "Nunez": "Núñez", "Lefevre": "Lefèvre", "Ostergaard": "Østergaard"}
LAST_NAMES += list(ACCENTED_LAST_NAMES)

# (title, seniority, seniority fit 0..1)
TITLES = [
    ("Chief Revenue Officer", "c_level", 1.0),
    ("CEO", "c_level", 0.8),
    ("VP of Sales", "vp", 1.0),
    ("VP Marketing", "vp", 0.9),
    ("Head of Revenue Operations", "director", 1.0),
    ("Director of Sales Operations", "director", 0.9),
    ("Marketing Operations Manager", "manager", 0.7),
    ("Sales Manager", "manager", 0.6),
    ("Account Executive", "individual_contributor", 0.4),
    ("Sales Development Representative", "individual_contributor", 0.3),
    ("Data Analyst", "individual_contributor", 0.3),
    ("Software Engineer", "individual_contributor", 0.1),
]
TITLE_WEIGHTS = [0.02, 0.02, 0.04, 0.04, 0.05, 0.06, 0.10, 0.12, 0.15, 0.15, 0.12, 0.13]

FREEMAIL_DOMAINS = ["gmail.com", "yahoo.com", "outlook.com", "hotmail.com", "icloud.com", "proton.me"]
ROLE_PREFIXES = ["info", "sales", "hello", "contact", "team"]

# Our simulated company sends marketing mail from these domains; the first is the one that degrades.
MARKETING_DOMAINS = ["news.northwind-mail.com", "mail.northwind.io", "go.northwind.io"]
SALES_DOMAINS = ["northwind.io", "northwind-sales.com"]

INTENT_PAGES = ["/pricing", "/demo", "/contact-sales", "/integrations", "/customers"]
INTENT_PAGE_WEIGHTS = [0.45, 0.15, 0.10, 0.15, 0.15]
BROWSE_PAGES = ["/", "/blog/revops-playbook", "/blog/speed-to-lead", "/docs/getting-started", "/docs/api", "/careers",
                "/about", "/features", "/blog/deliverability"]
BROWSE_PAGE_WEIGHTS = [0.25, 0.10, 0.08, 0.12, 0.08, 0.07, 0.08, 0.14, 0.08]
PRODUCT_EVENTS = ["Signed Up", "Trial Started", "Workspace Created", "Teammate Invited", "Integration Connected"]
REQUEST_EVENTS = ["Demo Requested", "Contact Sales Submitted"]

ENRICHMENT_PROVIDERS = ["firmograph", "datahound"]
