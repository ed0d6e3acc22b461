"""Word lists and text templates for the demo data generator (tasks.demo_data): names, places, schools,
courses, forum text. Everything here is fictional; email domains use the reserved `example` names
(RFC 2606) and phone numbers Ofcom's drama ranges, so no generated contact detail can reach anyone.

The forum sentences are deliberately free of every term in demo/keywords.csv, except the few "place
name" and "history lesson" sentences (SCUNTHORPE_SENTENCES) that contain a listed word by accident.
"""

from __future__ import annotations

FIRST_NAMES: tuple[str, ...] = (
    "Aaliyah", "Abdul", "Adam", "Adebayo", "Aditi", "Aisha", "Alan", "Alice", "Alison", "Amara",
    "Amelia", "Amir", "Amy", "Andrew", "Angela", "Anil", "Anna", "Anthony", "Arjun", "Ava",
    "Ayesha", "Barbara", "Ben", "Bethan", "Bilal", "Bronwen", "Callum", "Carys", "Catherine", "Charlie",
    "Charlotte", "Chen", "Chidi", "Chloe", "Chris", "Ciara", "Claire", "Connor", "Craig", "Daniel",
    "Darren", "David", "Deborah", "Declan", "Deepa", "Dylan", "Eilidh", "Eleanor", "Elif", "Ella",
    "Emily", "Emma", "Eoin", "Erin", "Ewan", "Fatima", "Femi", "Finn", "Fiona", "Gareth",
    "Gemma", "George", "Grace", "Graham", "Hamza", "Hannah", "Harpreet", "Harry", "Hassan", "Heather",
    "Helen", "Holly", "Ian", "Imran", "Isla", "Jack", "Jacob", "James", "Jane", "Jasmine",
    "Jennifer", "Jessica", "Joanne", "John", "Jordan", "Joseph", "Joshua", "Julie", "Kamal", "Karen",
    "Katie", "Kavita", "Kerry", "Kwame", "Laura", "Lauren", "Leah", "Liam", "Lily", "Lisa",
    "Lucy", "Mai", "Manpreet", "Mark", "Martin", "Mary", "Matthew", "Megan", "Mei", "Michael",
    "Mohammed", "Molly", "Mustafa", "Nadia", "Naomi", "Neil", "Niamh", "Nicola", "Noah", "Nuala",
    "Oliver", "Olivia", "Omar", "Oscar", "Owen", "Paul", "Peter", "Pooja", "Priya", "Rachel",
    "Rebecca", "Rhys", "Richard", "Robert", "Rory", "Ruth", "Ryan", "Sadia", "Samuel", "Sarah",
    "Seán", "Shauna", "Siân", "Simon", "Sinead", "Sophie", "Stephen", "Steven", "Sunil", "Tariq",
    "Thomas", "Tom", "Tomasz", "Una", "Usman", "Victoria", "Wei", "William", "Yusuf", "Zainab",
    "Zoë", "Zofia",
)  # fmt: skip

SURNAMES: tuple[str, ...] = (
    "Adams", "Ahmed", "Ali", "Allen", "Anderson", "Armstrong", "Atkinson", "Bailey", "Baker", "Banerjee",
    "Bell", "Bennett", "Bhatt", "Booth", "Brown", "Byrne", "Campbell", "Carter", "Chadwick", "Chan",
    "Chapman", "Chaudhry", "Clarke", "Collins", "Cooper", "Cox", "Davies", "Dixon", "Doherty", "Edwards",
    "Evans", "Fernandes", "Fisher", "Fletcher", "Foster", "Fraser", "Gallagher", "Gill", "Graham", "Gray",
    "Green", "Griffiths", "Hall", "Harris", "Harrison", "Hassan", "Hill", "Holmes", "Hughes", "Hussain",
    "Iqbal", "Jackson", "James", "Jenkins", "Johnson", "Jones", "Kaur", "Kelly", "Kennedy", "Khan",
    "King", "Kowalski", "Kumar", "Lee", "Lewis", "Lloyd", "MacDonald", "Mahmood", "Marshall", "Martin",
    "McCarthy", "McLaughlin", "Mensah", "Mitchell", "Moore", "Morgan", "Morris", "Murphy", "Murray", "Nowak",
    "Nguyen", "O'Brien", "O'Neill", "Okafor", "Owen", "Palmer", "Parker", "Patel", "Pearson", "Phillips",
    "Price", "Pritchard", "Quinn", "Rahman", "Reid", "Richards", "Roberts", "Robertson", "Robinson", "Rogers",
    "Ross", "Scott", "Shah", "Sharma", "Shaw", "Simpson", "Singh", "Smith", "Smith-Jones", "Stewart",
    "Sullivan", "Taylor", "Thomas", "Thompson", "Turner", "Walker", "Wallace", "Walsh", "Ward", "Watson",
    "White", "Williams", "Wilson", "Wong", "Wood", "Wright", "Yilmaz", "Young", "Zhang", "ap Rhys",
)  # fmt: skip

# The 12 ITL1 regions of the UK, with a rough share of the population.
REGIONS: tuple[tuple[str, float], ...] = (
    ("North East", 0.040),
    ("North West", 0.110),
    ("Yorkshire and The Humber", 0.082),
    ("East Midlands", 0.073),
    ("West Midlands", 0.089),
    ("East of England", 0.094),
    ("London", 0.133),
    ("South East", 0.138),
    ("South West", 0.085),
    ("Wales", 0.047),
    ("Scotland", 0.081),
    ("Northern Ireland", 0.028),
)

POSTCODE_AREAS: dict[str, tuple[str, ...]] = {
    "North East": ("NE", "DH", "SR", "TS", "DL"),
    "North West": ("M", "L", "WA", "WN", "BL", "OL", "SK", "PR", "BB", "LA", "CA", "CH", "CW", "FY"),
    "Yorkshire and The Humber": ("YO", "LS", "BD", "HX", "HD", "WF", "S", "DN", "HU", "HG"),
    "East Midlands": ("NG", "DE", "LE", "LN", "NN"),
    "West Midlands": ("B", "CV", "WV", "WS", "DY", "ST", "TF", "WR", "HR"),
    "East of England": ("CB", "CM", "CO", "IP", "NR", "PE", "SG", "AL", "LU", "SS"),
    "London": ("E", "EC", "N", "NW", "SE", "SW", "W", "WC"),
    "South East": ("BN", "CT", "GU", "ME", "MK", "OX", "PO", "RG", "RH", "SL", "SO", "TN", "HP"),
    "South West": ("BA", "BS", "BH", "DT", "EX", "GL", "PL", "SN", "SP", "TA", "TQ", "TR"),
    "Wales": ("CF", "NP", "SA", "LL", "SY", "LD"),
    "Scotland": ("AB", "DD", "EH", "FK", "G", "IV", "KA", "KY", "ML", "PA", "PH"),
    "Northern Ireland": ("BT",),
}
POSTCODE_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

TOWNS: dict[str, tuple[str, ...]] = {
    "North East": ("Durham", "Gateshead", "Hexham", "Darlington", "Sunderland", "Morpeth", "Consett", "Stockton"),
    "North West": ("Bolton", "Kendal", "Preston", "Wigan", "Chester", "Stockport", "Lancaster", "Warrington"),
    "Yorkshire and The Humber": ("York", "Harrogate", "Halifax", "Doncaster", "Hull", "Whitby", "Ripon", "Wakefield"),
    "East Midlands": ("Derby", "Lincoln", "Loughborough", "Matlock", "Grantham", "Kettering", "Buxton", "Newark"),
    "West Midlands": ("Coventry", "Walsall", "Telford", "Worcester", "Hereford", "Lichfield", "Stafford", "Dudley"),
    "East of England": ("Norwich", "Ipswich", "Colchester", "Cambridge", "Luton", "Bedford", "Ely", "Stevenage"),
    "London": ("Hackney", "Lewisham", "Croydon", "Ealing", "Barnet", "Brixton", "Walthamstow", "Greenwich"),
    "South East": ("Reading", "Guildford", "Maidstone", "Brighton", "Oxford", "Canterbury", "Slough", "Basingstoke"),
    "South West": ("Exeter", "Truro", "Bath", "Taunton", "Swindon", "Gloucester", "Plymouth", "Dorchester"),
    "Wales": ("Cardiff", "Swansea", "Wrexham", "Bangor", "Newport", "Aberystwyth", "Llandudno", "Brecon"),
    "Scotland": ("Dundee", "Perth", "Inverness", "Stirling", "Paisley", "Kirkcaldy", "Ayr", "Elgin"),
    "Northern Ireland": ("Belfast", "Derry", "Lisburn", "Newry", "Armagh", "Omagh", "Coleraine", "Bangor"),
}  # fmt: skip

STREETS: tuple[str, ...] = (
    "High Street", "Station Road", "Church Lane", "Park Avenue", "Mill Lane", "School Road", "Victoria Road",
    "The Green", "Queen Street", "North Road", "Manor Way", "Orchard Close", "Riverside", "Castle Street",
)  # fmt: skip

# School phases and their share of educators, with the school names each phase uses.
SCHOOL_PHASES: tuple[tuple[str, float], ...] = (
    ("primary", 0.45),
    ("secondary", 0.38),
    ("post-16", 0.07),
    ("special", 0.05),
    ("all-through", 0.05),
)
SCHOOL_SUFFIXES: dict[str, tuple[str, ...]] = {
    "primary": ("Primary School", "C of E Primary School", "Junior School", "Infant and Nursery School",
                "St Mary's RC Primary", "Community Primary Academy"),
    "secondary": ("High School", "Academy", "Community College", "Grammar School", "School of Science",
                  "Catholic High School"),
    "post-16": ("Sixth Form College", "College", "University Technical College"),
    "special": ("Special School", "Learning Centre", "Specialist Academy"),
    "all-through": ("All-Through School", "Academy (3-18)", "Free School"),
}  # fmt: skip

SUBJECTS: tuple[str, ...] = (
    "Biology", "Chemistry", "Physics", "Mathematics", "Computing", "Design and Technology", "Engineering",
    "Science (primary)", "Electronics", "Statistics", "Environmental Science", "Geology",
)  # fmt: skip
SUBJECT_CODES: dict[str, str] = {
    "Biology": "BIO", "Chemistry": "CHE", "Physics": "PHY", "Mathematics": "MAT", "Computing": "CMP",
    "Design and Technology": "DT", "Engineering": "ENG", "Science (primary)": "PSC", "Electronics": "ELE",
    "Statistics": "STA", "Environmental Science": "ENV", "Geology": "GEO",
}  # fmt: skip

INTERESTS: tuple[str, ...] = (
    "robotics", "coding clubs", "space", "climate", "careers", "practical work", "maths mastery",
    "STEM clubs", "CREST awards", "women in STEM", "outdoor learning", "engineering challenges", "AI in schools",
    "science capital", "assessment", "SEND inclusion", "transition", "technician support", "citizen science",
    "electronics", "sustainability", "school gardens",
)  # fmt: skip

JOB_TITLES_EDUCATOR: dict[str, tuple[str, ...]] = {
    "primary": ("Class Teacher", "Science Lead", "Maths Lead", "Headteacher", "Deputy Headteacher",
                "Teaching Assistant", "Computing Coordinator", "Early Career Teacher"),
    "secondary": ("Teacher of Science", "Head of Science", "Teacher of Physics", "Teacher of Mathematics",
                  "Head of Computing", "Science Technician", "Head of Year 9", "Trainee Teacher"),
    "post-16": ("Lecturer in Engineering", "Head of STEM", "Physics Lecturer", "Curriculum Manager",
                "Careers Adviser"),
    "special": ("Class Teacher", "SENCO", "Science Lead", "Teaching Assistant", "Assistant Headteacher"),
    "all-through": ("Director of Science", "Teacher of Science", "Maths Lead", "Computing Teacher",
                    "STEM Coordinator"),
}  # fmt: skip
JOB_TITLES_AMBASSADOR: tuple[str, ...] = (
    "Software Engineer", "Civil Engineer", "Research Scientist", "Apprentice Electrician", "Data Scientist",
    "Laboratory Technician", "Mechanical Engineer", "Project Manager", "Pharmacist", "Geologist",
    "Environmental Consultant", "Quality Engineer", "PhD Researcher", "Electrical Engineer", "Architect",
    "Biomedical Scientist", "Cyber Security Analyst", "Chemical Engineer", "Graduate Engineer", "Actuary",
)  # fmt: skip

EMPLOYERS: tuple[str, ...] = (
    "Northgate Engineering Ltd", "Pennine Aerospace", "BrightGrid Energy", "Tamar Water Services",
    "Humber Chemicals plc", "Castlefield Software", "Redbrick Rail Systems", "Ouse Valley NHS Trust",
    "Clyde Marine Technology", "Severn Robotics", "Moorland Geoscience", "Fenland Agritech",
    "Thames Analytics", "Cairn Bioscience", "Mersey Pharma", "Kestrel Civil Engineering",
    "Lakeside Instruments", "Valleys Renewables", "Beacon Telecoms", "Granite Construction Group",
    "Harbour Defence Systems", "Blue Peak Data", "Orbital Components Ltd", "Meridian Environmental",
    "Ironbridge Manufacturing", "Silverline Medical Devices", "University of Northmoor",
    "Midlands Battery Centre", "Coastline Wind Ltd", "Shire County Council Highways",
)  # fmt: skip
EMPLOYER_DOMAINS: dict[str, str] = {
    name: name.lower().replace(" plc", "").replace(" ltd", "").replace(" ", "-") + ".example"
    for name in EMPLOYERS
}
ACCOUNT_EMAIL_DOMAINS: tuple[str, ...] = (
    "example.com", "example.org", "example.net", "school.example", "academy.example", "mail.example",
    "stem.example", "learning.example",
)  # fmt: skip
EXTERNAL_EMAIL_DOMAINS: tuple[str, ...] = ("post.example", "inbox.example", "webmail.example")

# ONS-style categories (2021 Census wording, "any other" shortened to fit 60 characters), for
# ambassadors' diversity reporting only.
GENDERS: tuple[tuple[str, float], ...] = (
    ("Female", 0.45),
    ("Male", 0.48),
    ("Non-binary", 0.015),
    ("Prefer to self-describe", 0.005),
    ("Prefer not to say", 0.05),
)
ETHNICITIES: tuple[tuple[str, float], ...] = (
    ("Asian or Asian British: Bangladeshi", 0.011),
    ("Asian or Asian British: Chinese", 0.012),
    ("Asian or Asian British: Indian", 0.031),
    ("Asian or Asian British: Pakistani", 0.027),
    ("Asian or Asian British: Any other Asian background", 0.016),
    ("Black, Black British, Caribbean or African: African", 0.024),
    ("Black, Black British, Caribbean or African: Caribbean", 0.01),
    ("Black, Black British, Caribbean or African: Other", 0.005),
    ("Mixed or Multiple ethnic groups: White and Asian", 0.008),
    ("Mixed or Multiple ethnic groups: White and Black African", 0.004),
    ("Mixed or Multiple ethnic groups: White and Black Caribbean", 0.008),
    ("Mixed or Multiple ethnic groups: Other", 0.006),
    ("White: English, Welsh, Scottish, Northern Irish or British", 0.70),
    ("White: Irish", 0.009),
    ("White: Gypsy or Irish Traveller", 0.001),
    ("White: Roma", 0.002),
    ("White: Any other White background", 0.06),
    ("Other ethnic group: Arab", 0.006),
    ("Other ethnic group: Any other ethnic group", 0.012),
    ("Prefer not to say", 0.037),
)

ACTIVITY_TYPES: tuple[str, ...] = (
    "school talk", "careers fair", "STEM club", "workshop", "mentoring", "competition judge",
    "online session", "work experience host", "teacher CPD support", "science week event",
)  # fmt: skip
ACTIVITY_NOTES: tuple[str, ...] = (
    "Pupils asked lots of questions about apprenticeships.",
    "Brought a drone and some circuit boards to show.",
    "Ran two sessions back to back for Year 8.",
    "Teacher asked if I could come back next term.",
    "Online session; the sound dropped out for five minutes.",
    "Judged the regional heat of the bridge-building challenge.",
    "Helped with coursework ideas for the A level group.",
    "Talked about my route into engineering without a degree.",
    "Small group, very engaged.",
    "Set up the wind turbine kit with the after-school club.",
)

FUNDERS: tuple[str, ...] = (
    "Royal Academy Trust",
    "Northern Powerhouse STEM Fund",
    "Wellcome-like Foundation",
    "Brightfield Engineering Foundation",
    "Midlands Maths Trust",
    "Coastal Energy Futures Fund",
)
RESEARCH_PARTNERS: tuple[str, ...] = (
    "Northern Universities STEM Education Research Group",
    "Centre for Science Education Research (demo)",
    "National Foundation for Teaching Research (demo)",
    "Institute for Evaluation in Schools (demo)",
)
SHARE_DATASETS: tuple[str, ...] = (
    "cpd_participation", "impact_survey", "ambassador_activity", "community_engagement", "course_feedback",
)  # fmt: skip
RESEARCH_PURPOSES: tuple[str, ...] = (
    "Longitudinal study of teacher retention after subject-knowledge CPD",
    "Evaluation of the effect of CPD on pupils' attainment in science",
    "Study of STEM Ambassador engagement and young people's career aspirations",
)
FUNDER_PURPOSES: tuple[str, ...] = (
    "Grant monitoring: participants in funded CPD",
    "Evaluation of funded programme outcomes",
)

COURSE_TOPICS: dict[str, tuple[str, ...]] = {
    "Biology": ("Teaching Genetics and Inheritance", "Ecology Fieldwork for KS4", "Required Practicals in Biology"),
    "Chemistry": ("Practical Chemistry at KS3", "Teaching Bonding and Structure", "Safe Demonstrations in Chemistry"),
    "Physics": ("Teaching Electricity at KS3", "Forces and Motion for Non-Specialists", "Waves and the Electromagnetic Spectrum"),
    "Mathematics": ("Mastery in Primary Maths", "Teaching Algebra with Meaning", "Problem Solving at GCSE"),
    "Computing": ("Python for Beginners", "Teaching GCSE Computer Science", "Physical Computing with Microcontrollers"),
    "Design and Technology": ("Electronics in D&T", "Iterative Design in Practice", "CAD/CAM for the Classroom"),
    "Engineering": ("Engineering Challenges for KS3", "Bringing Industry into the Classroom", "Engineering Careers Toolkit"),
    "Science (primary)": ("Primary Science Subject Leadership", "Working Scientifically in KS2", "Plants and Living Things"),
    "Electronics": ("Circuits and Sensors", "Soldering Safely with Pupils", "Microelectronics Projects"),
    "Statistics": ("Data Handling Across the Curriculum", "Teaching Statistics with Real Data", "Core Maths Statistics"),
    "Environmental Science": ("Climate Science in the Curriculum", "Sustainability Projects", "Outdoor Learning for STEM"),
    "Geology": ("Rocks and Fossils at KS2", "Earth Science Fieldwork", "Teaching Plate Tectonics"),
}  # fmt: skip
COURSE_FORMATS: tuple[str, ...] = ("", " (twilight)", " - residential", " (intensive)", " - two-day course")
ONLINE_COURSE_FORMATS: tuple[str, ...] = ("", " - online series", " (live online)", " (twilight, online)")
VENUE_KINDS: tuple[str, ...] = (
    "STEM Learning Centre", "Science Learning Partnership Hub", "University Campus", "Civic Centre",
    "Teaching School Hub", "Discovery Museum", "Enterprise Park Conference Centre",
)  # fmt: skip
COURSE_FEES_PENCE: tuple[int, ...] = (4500, 9500, 15000, 25000, 45000)

DIETARY_REQUIREMENTS: tuple[str, ...] = (
    "Vegetarian", "Vegan", "Gluten free", "Halal", "Kosher", "Nut allergy", "Dairy free", "Pescatarian",
    "Coeliac - no gluten please", "No pork", "Lactose intolerant", "Vegetarian, no mushrooms",
)  # fmt: skip
ACCESSIBILITY_NEEDS: tuple[str, ...] = (
    "Step-free access", "Hearing loop", "Large print materials", "Parking near the entrance",
    "Quiet room for breaks", "BSL interpreter",
)  # fmt: skip

JOB_POSITIONS: tuple[str, ...] = (
    "Education Officer", "Data Analyst", "Finance Assistant", "STEM Ambassador Coordinator",
    "Communications Officer", "Learning Designer", "CPD Programme Manager", "Customer Service Adviser",
    "Software Developer", "Events Coordinator",
)  # fmt: skip
COVER_LETTER_SENTENCES: tuple[str, ...] = (
    "I am writing to apply for the position advertised on your website.",
    "I have taught science for several years and led our school's STEM club.",
    "My background is in data analysis for a regional charity.",
    "I am passionate about widening participation in STEM subjects.",
    "I have experience organising events for up to 300 delegates.",
    "I would welcome the opportunity to discuss my application further.",
    "Please find my CV attached.",
    "I can start after a one-month notice period.",
    "I have managed budgets and reported to funders on programme outcomes.",
    "I am confident using spreadsheets, databases and CRM systems.",
)

INFO_TOPICS: tuple[tuple[str, str], ...] = (
    ("CPD bursaries", "Could you tell me whether our school is eligible for a bursary for the next course?"),
    ("Becoming a STEM Ambassador", "I would like to volunteer as a STEM Ambassador. What checks are needed?"),
    ("School partnership", "We are a small rural primary and would like a visit from an engineer."),
    ("Data protection", "Please tell me what information you hold about me and who you share it with."),
    ("Invoice query", "We received an invoice for a course we cancelled; please can you check?"),
    ("Event accessibility", "Is the venue for the March course accessible for wheelchair users?"),
    ("Resources", "Where can I find the worksheets that were mentioned at the twilight session?"),
    ("Certificates", "I attended a course last year but never received my certificate."),
)

SURVEY_KINDS: tuple[tuple[str, str, str], ...] = (
    # (title prefix, purpose, who answers: educator | ambassador | any)
    ("Educator annual survey", "Service improvement and annual reporting", "educator"),
    ("CPD impact follow-up", "Measuring the impact of CPD on teaching practice", "educator"),
    ("STEM Ambassador experience survey", "Improving volunteer support", "ambassador"),
    ("Community satisfaction survey", "Improving the online community", "any"),
)
SURVEY_COMMENTS: tuple[str, ...] = (
    "The course was really practical and I used the ideas the next week.",
    "More online options please, travel is hard for us.",
    "Great trainer, very knowledgeable.",
    "Would like more on assessment.",
    "The venue was too cold.",
    "Pupils loved the activities.",
    "Booking was easy.",
    "Could the resources be shared before the session?",
)

IMPACT_MEASURES: tuple[str, ...] = (
    "teacher_confidence", "subject_knowledge", "pupil_engagement", "career_awareness", "practical_skills",
)  # fmt: skip
IMPACT_COMMENTS: tuple[str, ...] = (
    "Now running practicals every fortnight.",
    "Shared the resources with the whole department.",
    "Pupils more aware of engineering careers.",
    "Confidence teaching electricity much improved.",
    "Started an after-school coding club.",
    "Hard to find time to apply it yet.",
)

THREAD_CATEGORIES: tuple[str, ...] = (
    "Primary science", "Secondary science", "Maths", "Computing", "Careers", "Technicians", "CPD",
    "STEM clubs", "General",
)  # fmt: skip

# Slots: {topic}, {year}, {kit}, {town}. Every fill of every template is checked against the keywords.
TOPICS: tuple[str, ...] = (
    "electricity", "forces", "photosynthesis", "the water cycle", "fractions", "algebra", "rates of reaction",
    "plate tectonics", "microorganisms", "loops in Python", "sorting algorithms", "circuits", "magnets",
    "states of matter", "light and shadows", "the solar system", "genetics", "chemical bonding",
    "probability", "ratio and proportion", "ecosystems", "materials and their properties", "sound",
    "renewable energy", "the digestive system", "acids and alkalis", "levers and pulleys", "data logging",
)  # fmt: skip
YEAR_GROUPS: tuple[str, ...] = (
    "Year 2", "Year 3", "Year 4", "Year 5", "Year 6", "Year 7", "Year 8", "Year 9", "Year 10", "Year 11",
    "Year 12", "Year 13", "KS3", "KS4",
)  # fmt: skip
KIT: tuple[str, ...] = (
    "micro:bits", "data loggers", "ray boxes", "Newton meters", "microscopes", "Lego robotics kits",
    "light gates", "multimeters", "Raspberry Pis", "pH sensors", "Van de Graaff generator",
    "solar cells", "bug hotels", "3D printer",
)  # fmt: skip

THREAD_TITLE_TEMPLATES: tuple[str, ...] = (
    "Ideas for teaching {topic} to {year}?",
    "Best way to introduce {topic}",
    "Anyone using {kit} with {year}?",
    "Recommendations for {kit}",
    "Help: practical on {topic} keeps failing",
    "Misconceptions about {topic}",
    "STEM club ideas for {year}",
    "Cheap alternatives to {kit}",
    "Assessment ideas for {topic}",
    "Looking for a STEM Ambassador near {town}",
    "Cross-curricular links with {topic}",
    "Technician question about {kit}",
)

POST_OPENERS: tuple[str, ...] = (
    "Hi all,", "Hello everyone,", "Morning!", "Quick question -", "Hi,", "Thanks for the replies so far.",
    "Great thread.", "Evening all,", "Hope everyone had a good half term.", "",
)  # fmt: skip
POST_SENTENCE_TEMPLATES: tuple[str, ...] = (
    "I'm planning a unit on {topic} for {year} and would love some fresh ideas.",
    "We tried a practical on {topic} last week and it went really well.",
    "Has anyone used {kit} for teaching {topic}?",
    "Our department bought some {kit} but nobody is quite sure how to get the best out of them.",
    "The pupils found {topic} quite abstract, so I used a simple model with string and paper clips.",
    "I usually start {topic} with a quick quiz to surface misconceptions.",
    "A colleague in {town} suggested linking {topic} to real careers, which worked brilliantly.",
    "Budget is tight this year, so anything that works without {kit} would be great.",
    "For {year} I found that short demonstrations followed by paired talk work best.",
    "The worksheets from the last CPD course on {topic} are really good, happy to share.",
    "We had a STEM Ambassador visit from a local engineering firm and {year} are still talking about it.",
    "Does anyone have a risk assessment template for a practical on {topic}?",
    "I've attached the lesson plan I used, feel free to adapt it.",
    "Our technician set up {kit} in ten minutes, which made a huge difference.",
    "Marking the {topic} assessments took ages, so I'm looking for a quicker approach.",
    "One tip: let {year} predict first, then test, then explain.",
    "I'm an early career teacher and {topic} is not my specialism, so any advice is welcome.",
    "We are running a science week in {town} and need ideas for a family evening.",
    "I would recommend the online course on {topic}; it was practical and well paced.",
    "Our {kit} kept giving odd readings until we replaced the batteries.",
    "The trick with {topic} is to keep coming back to the big idea.",
    "Mixed-attainment {year} groups really benefit from hands-on tasks.",
    "Has anyone linked {topic} with maths lessons on graphs?",
    "Parents at our school in {town} were really keen to help with the STEM club.",
    "We borrowed {kit} from the local hub, which saved a lot of money.",
    "I'd be interested to hear how others sequence {topic} across the key stage.",
    "The exam board specification is quite vague about {topic}, so I've written my own checklist.",
    "Last term our after-school club built a weather station with {kit}.",
    "Our {year} class made posters about {topic} for the corridor display.",
    "Thanks, that's really helpful, I'll try it next week.",
    "Agree with the comment above about keeping it practical.",
    "We found that pairing pupils with different strengths works well for {topic}.",
    "If anyone is near {town}, our hub has spare {kit} to lend.",
    "I teach in a small rural school, so sharing resources here is a lifesaver.",
    "Our head has asked us to show impact, so I'm collecting pupil voice on {topic}.",
    "The visit from a local engineer in {town} really raised aspirations.",
    "We use {kit} in the first lesson to hook the class.",
    "I'm not sure the textbook explanation of {topic} is right; can anyone check?",
    "Would anyone like to swap resources on {topic}?",
    "Great idea - I'm going to borrow that for {year}.",
)
POST_CLOSERS: tuple[str, ...] = (
    "Thanks in advance!", "Any ideas welcome.", "Cheers.", "Hope this helps.", "Thanks!",
    "Happy to share more if useful.", "Good luck!", "",
)  # fmt: skip

# Clean sentences that a naive keyword filter flags: place names containing a listed word (the
# "Scunthorpe problem") and a history-of-science topic containing one. An allow-list must spare them.
SCUNTHORPE_SENTENCES: tuple[str, ...] = (
    "Our Year 5s loved the pond-dipping trip to the nature reserve at Scamblesby in the Lincolnshire Wolds.",
    "Anyone near Killamarsh running a STEM club? We'd love to join forces for a robotics day.",
    "We're a small primary near Gunnislake in the Tamar Valley and would welcome a STEM Ambassador visit.",
    "We measured flow rates on the River Isis in Oxford; great fieldwork for Year 9.",
    "Shout out to the technicians in Scunthorpe who lent us their spare microscopes.",
    "Our Year 8 lesson on the House of Wisdom in the Abbasid Caliphate and early algebra went down well.",
)

ATTACHMENT_TYPES: tuple[tuple[str, str, str], ...] = (
    ("{slug}_worksheet", "pdf", "application/pdf"),
    ("lesson-plan-{slug}", "docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("{slug}-results", "xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("IMG_{n}", "jpg", "image/jpeg"),
    ("{slug}_slides", "pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
    ("risk-assessment-{slug}", "pdf", "application/pdf"),
    ("Screenshot {n}", "png", "image/png"),
)

MEMBER_REPORT_REASONS: tuple[str, ...] = (
    "spam", "offensive", "harassment", "personal_information", "misinformation", "other",
)  # fmt: skip
REPORT_REASON_BY_CATEGORY: dict[str, str] = {
    "terrorism": "terrorism",
    "csea": "child_safety",
    "hate": "hate",
    "violence": "threat_of_violence",
    "fraud": "fraud",
    "organisation": "personal_information",
}
REPORT_DETAILS: tuple[str, ...] = (
    "This looks like a scam to me.",
    "Please check this post, it makes me uncomfortable.",
    "Shares details about a pupil.",
    "Off topic and repeated in several threads.",
    "Seems to be advertising.",
    "Rude to another member.",
    "Not appropriate for a teachers' forum.",
)
TRUSTED_FLAGGERS: tuple[str, ...] = (
    "Online Safety Hotline (demo)",
    "Counter Extremism Referral Unit (demo)",
    "Fraud Reporting Centre (demo)",
    "Child Safety Online Partnership (demo)",
)

SMTP_PERMANENT: tuple[tuple[str, str, str], ...] = (
    ("550", "5.1.1", "smtp; 550 5.1.1 Recipient address rejected: user unknown"),
    ("550", "5.1.1", "smtp; 550 5.1.1 The email account that you tried to reach does not exist"),
    ("550", "5.1.2", "smtp; 550 5.1.2 Host unknown: domain name not found"),
    ("556", "5.1.10", "smtp; 556 5.1.10 Recipient address has null MX"),
    ("550", "5.2.1", "smtp; 550 5.2.1 Mailbox disabled, not accepting messages"),
    ("554", "5.7.1", "smtp; 554 5.7.1 Delivery not authorised, message refused"),
)
SMTP_TRANSIENT: tuple[tuple[str, str, str], ...] = (
    ("452", "4.2.2", "smtp; 452 4.2.2 Mailbox full"),
    ("421", "4.4.1", "smtp; 421 4.4.1 Connection timed out, no answer from host"),
    ("451", "4.7.1", "smtp; 451 4.7.1 Greylisted, please try again later"),
    ("450", "4.4.7", "smtp; 450 4.4.7 Delivery time expired, message delayed"),
    ("451", "4.3.0", "smtp; 451 4.3.0 Temporary server error"),
)
SMTP_DELIVERY: tuple[str, str, str] = ("250", "2.0.0", "smtp; 250 2.0.0 OK: queued")
COMPLAINT_DIAGNOSTIC = "abuse report via feedback loop"

LEGAL_HOLD_REASONS: tuple[str, ...] = (
    "Employment tribunal claim",
    "Safeguarding investigation",
    "Insurance claim following an incident at a course",
    "Police request (crime prevention)",
    "Litigation hold: contract dispute with a school",
)
LEGAL_HOLD_PLACERS: tuple[str, ...] = ("Data Protection Officer", "Head of Safeguarding", "Finance Director")

# Sentences that carry a planted keyword term; {t} is the term (possibly obfuscated).
KEYWORD_CARRIERS: tuple[str, ...] = (
    "{t}.",
    "Seriously though, {t}.",
    "Message me privately: {t}.",
    "Not joking - {t}!",
    "{t}, you know what I mean.",
    "I'll say it again: {t}.",
    "Off topic, but {t}.",
)
CATEGORY_CARRIERS: dict[str, tuple[str, ...]] = {
    "fraud": ("Amazing opportunity for staff - {t}, DM me today.", "Not school related but {t}, limited spaces."),
    "organisation": ("Can someone share the {t} for the Year 6 trip?", "I've uploaded the {t} here so everyone has it."),
    "csea": ("To the pupil who messaged me: {t}.",),
    "terrorism": ("Brothers and sisters, {t}.",),
    "hate": ("Some people here should hear this: {t}.",),
    "violence": ("To whoever reported me: {t}.",),
}  # fmt: skip
