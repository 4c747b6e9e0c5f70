"""Word lists for the demo catalog: categories, product types, brands, attributes, prices.

Each product type has a price range in USD and words that fit it; `follow_ups` names the
types a shopper tends to want next (a tent, then a sleeping bag), which gives the demo log
real sequential patterns for the intent encoder to learn.
"""

from __future__ import annotations

from typing import TypedDict


class ProductType(TypedDict):
    name: str
    price: tuple[float, float]
    features: list[str]
    follow_ups: list[str]


class Category(TypedDict):
    name: str
    brands: list[str]
    materials: list[str]
    types: list[ProductType]


COLORS = ["black", "navy", "forest green", "slate grey", "red", "white", "sand", "teal", "plum"]
QUALITIES = ["lightweight", "compact", "durable", "premium", "everyday", "heavy-duty", "eco"]
USES = [
    "for travel",
    "for small spaces",
    "for beginners",
    "for professionals",
    "for kids",
    "for daily use",
    "for gifts",
    "for the weekend",
]

CATEGORIES: list[Category] = [
    {
        "name": "Outdoor & Hiking",
        "brands": [
            "Trailwise",
            "Northpeak",
            "Ridgeline",
            "Alpenglow",
            "Cairn & Co",
            "Summitry",
            "Wildgrove",
            "Basecamp Supply",
        ],
        "materials": [
            "ripstop nylon",
            "recycled polyester",
            "merino wool",
            "aluminium",
            "Gore-Tex",
        ],
        "types": [
            {
                "name": "hiking backpack",
                "price": (35, 220),
                "features": [
                    "waterproof",
                    "30L",
                    "45L",
                    "hydration sleeve",
                    "ventilated back panel",
                    "rain cover",
                ],
                "follow_ups": ["trekking poles", "water filter", "hiking boots"],
            },
            {
                "name": "tent",
                "price": (60, 480),
                "features": [
                    "2-person",
                    "4-person",
                    "ultralight",
                    "freestanding",
                    "3-season",
                    "double wall",
                ],
                "follow_ups": ["sleeping bag", "sleeping pad", "camping stove"],
            },
            {
                "name": "sleeping bag",
                "price": (30, 320),
                "features": [
                    "down fill",
                    "synthetic fill",
                    "-5C rated",
                    "mummy shape",
                    "packable",
                    "zip-together",
                ],
                "follow_ups": ["sleeping pad", "headlamp"],
            },
            {
                "name": "sleeping pad",
                "price": (20, 180),
                "features": ["self-inflating", "closed-cell foam", "insulated", "R-value 4"],
                "follow_ups": ["camping stove", "headlamp"],
            },
            {
                "name": "trekking poles",
                "price": (18, 160),
                "features": ["carbon", "collapsible", "cork grips", "anti-shock"],
                "follow_ups": ["hiking boots", "water filter"],
            },
            {
                "name": "hiking boots",
                "price": (55, 260),
                "features": ["waterproof", "mid-cut", "Vibram sole", "wide fit", "breathable"],
                "follow_ups": ["hiking socks", "trekking poles"],
            },
            {
                "name": "hiking socks",
                "price": (8, 30),
                "features": ["cushioned", "3-pack", "blister-free", "crew length"],
                "follow_ups": ["hiking boots"],
            },
            {
                "name": "headlamp",
                "price": (12, 90),
                "features": ["rechargeable", "400 lumen", "red light mode", "waterproof"],
                "follow_ups": ["camping stove"],
            },
            {
                "name": "camping stove",
                "price": (25, 190),
                "features": ["canister", "wind-resistant", "piezo ignition", "foldable"],
                "follow_ups": ["cookware set", "water filter"],
            },
            {
                "name": "cookware set",
                "price": (20, 120),
                "features": ["titanium", "nesting", "non-stick", "2-person"],
                "follow_ups": ["camping stove"],
            },
            {
                "name": "water filter",
                "price": (18, 110),
                "features": ["squeeze", "gravity-fed", "0.1 micron", "straw"],
                "follow_ups": ["hiking backpack"],
            },
            {
                "name": "rain jacket",
                "price": (40, 350),
                "features": ["waterproof", "packable", "pit zips", "hooded", "breathable"],
                "follow_ups": ["hiking backpack", "hiking boots"],
            },
        ],
    },
    {
        "name": "Kitchen",
        "brands": [
            "Hearthstone",
            "Copperleaf",
            "Panfield",
            "Salt & Ember",
            "Kitchwell",
            "Maple Row",
            "Ovenbird",
        ],
        "materials": [
            "stainless steel",
            "cast iron",
            "carbon steel",
            "bamboo",
            "ceramic",
            "borosilicate glass",
        ],
        "types": [
            {
                "name": "chef's knife",
                "price": (20, 240),
                "features": ["8-inch", "Damascus steel", "full tang", "ergonomic handle"],
                "follow_ups": ["cutting board", "knife sharpener"],
            },
            {
                "name": "cutting board",
                "price": (12, 90),
                "features": ["end grain", "reversible", "juice groove", "dishwasher safe"],
                "follow_ups": ["chef's knife"],
            },
            {
                "name": "knife sharpener",
                "price": (10, 120),
                "features": ["whetstone", "2-stage", "1000/6000 grit", "non-slip base"],
                "follow_ups": ["chef's knife"],
            },
            {
                "name": "skillet",
                "price": (18, 180),
                "features": ["10-inch", "12-inch", "pre-seasoned", "oven safe", "induction ready"],
                "follow_ups": ["spatula set", "dutch oven"],
            },
            {
                "name": "dutch oven",
                "price": (40, 380),
                "features": ["enamelled", "5.5 quart", "self-basting lid", "oven safe"],
                "follow_ups": ["skillet", "oven mitts"],
            },
            {
                "name": "spatula set",
                "price": (8, 45),
                "features": ["silicone", "heat resistant", "5-piece", "non-scratch"],
                "follow_ups": ["skillet"],
            },
            {
                "name": "coffee grinder",
                "price": (20, 260),
                "features": ["burr", "40 grind settings", "electric", "manual"],
                "follow_ups": ["pour-over coffee maker", "coffee scale"],
            },
            {
                "name": "pour-over coffee maker",
                "price": (15, 90),
                "features": ["glass carafe", "paperless filter", "6-cup", "gooseneck"],
                "follow_ups": ["coffee scale", "coffee grinder"],
            },
            {
                "name": "coffee scale",
                "price": (12, 70),
                "features": ["0.1g precision", "built-in timer", "rechargeable"],
                "follow_ups": ["pour-over coffee maker"],
            },
            {
                "name": "oven mitts",
                "price": (8, 35),
                "features": ["silicone", "quilted cotton", "extra long", "pair"],
                "follow_ups": ["dutch oven"],
            },
            {
                "name": "food storage containers",
                "price": (12, 70),
                "features": ["airtight", "10-piece", "stackable", "leak-proof", "BPA-free"],
                "follow_ups": ["lunch box"],
            },
            {
                "name": "lunch box",
                "price": (10, 45),
                "features": ["insulated", "bento", "leak-proof", "3 compartments"],
                "follow_ups": ["water bottle"],
            },
        ],
    },
    {
        "name": "Home Office",
        "brands": [
            "Deskline",
            "Quillmark",
            "Ergonest",
            "Paperweight Co",
            "Lumen & Oak",
            "Worksmith",
            "Inkwell Studio",
        ],
        "materials": ["oak", "walnut", "steel", "mesh", "recycled paper", "felt"],
        "types": [
            {
                "name": "ergonomic office chair",
                "price": (90, 650),
                "features": [
                    "lumbar support",
                    "adjustable armrests",
                    "breathable mesh",
                    "headrest",
                ],
                "follow_ups": ["standing desk", "footrest"],
            },
            {
                "name": "standing desk",
                "price": (150, 700),
                "features": ["electric", "dual motor", "memory presets", "48-inch top"],
                "follow_ups": ["anti-fatigue mat", "monitor arm"],
            },
            {
                "name": "monitor arm",
                "price": (25, 160),
                "features": ["gas spring", "dual", "VESA mount", "cable management"],
                "follow_ups": ["desk lamp"],
            },
            {
                "name": "desk lamp",
                "price": (18, 140),
                "features": [
                    "LED",
                    "dimmable",
                    "USB charging port",
                    "adjustable colour temperature",
                ],
                "follow_ups": ["desk organizer"],
            },
            {
                "name": "desk organizer",
                "price": (10, 60),
                "features": ["5 compartments", "drawer", "pen holder", "modular"],
                "follow_ups": ["notebook"],
            },
            {
                "name": "notebook",
                "price": (5, 35),
                "features": ["dot grid", "A5", "lay-flat", "120gsm paper", "hardcover"],
                "follow_ups": ["fountain pen", "gel pens"],
            },
            {
                "name": "fountain pen",
                "price": (12, 220),
                "features": ["fine nib", "converter included", "brass body", "medium nib"],
                "follow_ups": ["notebook", "ink bottle"],
            },
            {
                "name": "ink bottle",
                "price": (6, 30),
                "features": ["50ml", "water resistant", "fast drying"],
                "follow_ups": ["fountain pen"],
            },
            {
                "name": "gel pens",
                "price": (5, 25),
                "features": ["0.5mm", "12-pack", "quick dry", "assorted colours"],
                "follow_ups": ["notebook"],
            },
            {
                "name": "anti-fatigue mat",
                "price": (25, 110),
                "features": ["contoured", "non-slip", "beveled edge"],
                "follow_ups": ["footrest"],
            },
            {
                "name": "footrest",
                "price": (15, 80),
                "features": ["adjustable height", "rocking", "massage surface"],
                "follow_ups": ["ergonomic office chair"],
            },
            {
                "name": "paper shredder",
                "price": (35, 260),
                "features": ["cross-cut", "micro-cut", "12-sheet", "quiet"],
                "follow_ups": ["desk organizer"],
            },
        ],
    },
    {
        "name": "Electronics",
        "brands": [
            "Voltaic",
            "Soundry",
            "Pixelbay",
            "Auralis",
            "Circuitry",
            "Nimbus Labs",
            "Brightwire",
            "Hexa",
        ],
        "materials": ["aluminium", "matte plastic", "fabric", "silicone", "glass"],
        "types": [
            {
                "name": "wireless earbuds",
                "price": (20, 280),
                "features": ["noise cancelling", "waterproof", "30h battery", "wireless charging"],
                "follow_ups": ["charging cable", "portable charger"],
            },
            {
                "name": "over-ear headphones",
                "price": (30, 400),
                "features": ["noise cancelling", "foldable", "40h battery", "hi-res audio"],
                "follow_ups": ["headphone stand"],
            },
            {
                "name": "headphone stand",
                "price": (12, 60),
                "features": ["aluminium", "USB hub", "weighted base"],
                "follow_ups": ["over-ear headphones"],
            },
            {
                "name": "bluetooth speaker",
                "price": (20, 300),
                "features": ["waterproof", "360 sound", "20h battery", "stereo pairing"],
                "follow_ups": ["portable charger"],
            },
            {
                "name": "portable charger",
                "price": (15, 110),
                "features": ["10000mAh", "20000mAh", "USB-C PD", "fast charging"],
                "follow_ups": ["charging cable"],
            },
            {
                "name": "charging cable",
                "price": (6, 30),
                "features": ["braided", "USB-C", "2m", "100W", "2-pack"],
                "follow_ups": ["wall charger"],
            },
            {
                "name": "wall charger",
                "price": (10, 70),
                "features": ["GaN", "65W", "3 ports", "foldable plug"],
                "follow_ups": ["charging cable"],
            },
            {
                "name": "mechanical keyboard",
                "price": (40, 260),
                "features": ["hot-swappable", "tenkeyless", "wireless", "RGB", "brown switches"],
                "follow_ups": ["wireless mouse", "desk mat"],
            },
            {
                "name": "wireless mouse",
                "price": (15, 140),
                "features": ["ergonomic", "silent clicks", "rechargeable", "multi-device"],
                "follow_ups": ["desk mat"],
            },
            {
                "name": "desk mat",
                "price": (10, 50),
                "features": ["extended", "stitched edges", "water resistant"],
                "follow_ups": ["mechanical keyboard"],
            },
            {
                "name": "webcam",
                "price": (25, 220),
                "features": ["1080p", "4K", "auto focus", "privacy shutter", "dual microphones"],
                "follow_ups": ["ring light"],
            },
            {
                "name": "ring light",
                "price": (15, 90),
                "features": ["10-inch", "tripod", "3 colour modes", "phone holder"],
                "follow_ups": ["webcam"],
            },
        ],
    },
    {
        "name": "Fitness",
        "brands": [
            "Pulseform",
            "Ironbark",
            "Flexa",
            "Stride Lab",
            "Corewell",
            "Vantage Athletic",
            "Kinetiq",
        ],
        "materials": ["natural rubber", "TPE", "neoprene", "cast iron", "cork", "nylon"],
        "types": [
            {
                "name": "yoga mat",
                "price": (15, 130),
                "features": ["6mm", "non-slip", "alignment lines", "eco-friendly", "extra long"],
                "follow_ups": ["yoga blocks", "yoga strap"],
            },
            {
                "name": "yoga blocks",
                "price": (8, 35),
                "features": ["2-pack", "high density", "beveled edges"],
                "follow_ups": ["yoga strap"],
            },
            {
                "name": "yoga strap",
                "price": (6, 20),
                "features": ["D-ring", "8ft", "cotton"],
                "follow_ups": ["yoga mat"],
            },
            {
                "name": "adjustable dumbbells",
                "price": (60, 420),
                "features": ["5-25 lb", "quick select dial", "space saving", "pair"],
                "follow_ups": ["weight bench"],
            },
            {
                "name": "weight bench",
                "price": (70, 330),
                "features": ["adjustable incline", "foldable", "600 lb capacity"],
                "follow_ups": ["adjustable dumbbells", "resistance bands"],
            },
            {
                "name": "resistance bands",
                "price": (8, 45),
                "features": ["5 levels", "door anchor", "fabric", "handles"],
                "follow_ups": ["foam roller"],
            },
            {
                "name": "foam roller",
                "price": (10, 55),
                "features": ["high density", "textured", "18-inch", "vibrating"],
                "follow_ups": ["massage ball"],
            },
            {
                "name": "massage ball",
                "price": (6, 30),
                "features": ["peanut shape", "spiky", "set of 3"],
                "follow_ups": ["foam roller"],
            },
            {
                "name": "jump rope",
                "price": (6, 40),
                "features": ["weighted", "ball bearings", "adjustable length", "speed"],
                "follow_ups": ["fitness tracker"],
            },
            {
                "name": "fitness tracker",
                "price": (30, 250),
                "features": ["heart rate", "GPS", "sleep tracking", "7-day battery", "waterproof"],
                "follow_ups": ["running belt"],
            },
            {
                "name": "running belt",
                "price": (10, 40),
                "features": ["bounce-free", "reflective", "water bottle holder"],
                "follow_ups": ["running shoes"],
            },
            {
                "name": "running shoes",
                "price": (50, 220),
                "features": ["cushioned", "trail", "wide fit", "carbon plate", "breathable"],
                "follow_ups": ["running belt", "fitness tracker"],
            },
        ],
    },
    {
        "name": "Pets",
        "brands": [
            "Pawsmith",
            "Whiskerly",
            "Good Boy Goods",
            "Tailwind Pet",
            "Furrow",
            "Barkley & Bean",
        ],
        "materials": ["organic cotton", "rubber", "rope", "memory foam", "stainless steel"],
        "types": [
            {
                "name": "dog bed",
                "price": (25, 200),
                "features": [
                    "orthopedic",
                    "washable cover",
                    "large",
                    "bolster",
                    "waterproof liner",
                ],
                "follow_ups": ["dog blanket", "chew toy"],
            },
            {
                "name": "dog blanket",
                "price": (12, 50),
                "features": ["fleece", "waterproof", "calming"],
                "follow_ups": ["dog bed"],
            },
            {
                "name": "chew toy",
                "price": (5, 30),
                "features": ["indestructible", "treat dispensing", "dental", "squeaky"],
                "follow_ups": ["dog treats"],
            },
            {
                "name": "dog treats",
                "price": (6, 35),
                "features": ["grain-free", "training size", "single ingredient"],
                "follow_ups": ["chew toy"],
            },
            {
                "name": "dog leash",
                "price": (8, 60),
                "features": ["reflective", "hands-free", "6ft", "padded handle"],
                "follow_ups": ["dog harness", "poop bag holder"],
            },
            {
                "name": "dog harness",
                "price": (15, 70),
                "features": ["no-pull", "padded", "front clip", "adjustable"],
                "follow_ups": ["dog leash"],
            },
            {
                "name": "poop bag holder",
                "price": (5, 20),
                "features": ["compostable bags", "clip-on"],
                "follow_ups": ["dog leash"],
            },
            {
                "name": "cat scratcher",
                "price": (10, 90),
                "features": ["cardboard", "sisal", "tower", "with catnip"],
                "follow_ups": ["cat toy", "cat tree"],
            },
            {
                "name": "cat tree",
                "price": (40, 260),
                "features": ["multi-level", "condo", "hammock", "sisal posts"],
                "follow_ups": ["cat scratcher"],
            },
            {
                "name": "cat toy",
                "price": (4, 30),
                "features": ["feather wand", "interactive", "refillable catnip", "laser"],
                "follow_ups": ["cat scratcher"],
            },
            {
                "name": "pet water fountain",
                "price": (20, 80),
                "features": ["filtered", "quiet pump", "2L", "stainless steel"],
                "follow_ups": ["pet food bowl"],
            },
            {
                "name": "pet food bowl",
                "price": (8, 45),
                "features": ["slow feeder", "elevated", "non-slip"],
                "follow_ups": ["pet water fountain"],
            },
        ],
    },
    {
        "name": "Garden",
        "brands": [
            "Greenhaven",
            "Rootstock",
            "Bloomfield",
            "Terra Tools",
            "Dew & Loam",
            "Hedgerow",
        ],
        "materials": ["galvanised steel", "terracotta", "cedar", "recycled plastic", "ash wood"],
        "types": [
            {
                "name": "pruning shears",
                "price": (10, 80),
                "features": ["bypass", "ratchet", "SK5 blade", "ergonomic grip"],
                "follow_ups": ["gardening gloves"],
            },
            {
                "name": "gardening gloves",
                "price": (6, 35),
                "features": ["thorn-proof", "breathable", "touchscreen fingertips"],
                "follow_ups": ["kneeling pad"],
            },
            {
                "name": "kneeling pad",
                "price": (8, 40),
                "features": ["foldable", "thick foam", "with handles"],
                "follow_ups": ["hand trowel"],
            },
            {
                "name": "hand trowel",
                "price": (6, 45),
                "features": ["depth markings", "forged", "wooden handle"],
                "follow_ups": ["plant pots"],
            },
            {
                "name": "plant pots",
                "price": (10, 90),
                "features": ["drainage holes", "set of 3", "self-watering", "glazed"],
                "follow_ups": ["potting soil", "plant stand"],
            },
            {
                "name": "potting soil",
                "price": (8, 30),
                "features": ["organic", "cactus mix", "peat-free", "10L"],
                "follow_ups": ["plant pots"],
            },
            {
                "name": "plant stand",
                "price": (20, 120),
                "features": ["3-tier", "indoor", "foldable", "corner"],
                "follow_ups": ["grow light"],
            },
            {
                "name": "grow light",
                "price": (18, 140),
                "features": ["full spectrum", "timer", "clip-on", "LED"],
                "follow_ups": ["plant pots"],
            },
            {
                "name": "watering can",
                "price": (10, 60),
                "features": ["long spout", "2L", "indoor", "brass rose"],
                "follow_ups": ["garden hose"],
            },
            {
                "name": "garden hose",
                "price": (20, 120),
                "features": ["expandable", "kink-free", "50ft", "8 spray patterns"],
                "follow_ups": ["hose reel"],
            },
            {
                "name": "hose reel",
                "price": (25, 150),
                "features": ["wall-mounted", "retractable", "cart"],
                "follow_ups": ["garden hose"],
            },
            {
                "name": "compost bin",
                "price": (25, 180),
                "features": ["tumbler", "charcoal filter", "kitchen countertop", "dual chamber"],
                "follow_ups": ["potting soil"],
            },
        ],
    },
    {
        "name": "Toys & Games",
        "brands": [
            "Puzzleworks",
            "Little Oak",
            "Meeple House",
            "Brickbright",
            "Whimsy Lane",
            "Roundtable Games",
        ],
        "materials": ["beech wood", "cardboard", "ABS plastic", "felt", "cotton"],
        "types": [
            {
                "name": "jigsaw puzzle",
                "price": (10, 45),
                "features": ["1000 pieces", "500 pieces", "panoramic", "landscape", "art print"],
                "follow_ups": ["puzzle mat"],
            },
            {
                "name": "puzzle mat",
                "price": (12, 40),
                "features": ["roll-up", "1500 pieces", "storage bag"],
                "follow_ups": ["jigsaw puzzle"],
            },
            {
                "name": "board game",
                "price": (15, 90),
                "features": ["strategy", "cooperative", "2-4 players", "family", "party"],
                "follow_ups": ["card game", "dice set"],
            },
            {
                "name": "card game",
                "price": (8, 35),
                "features": ["party", "2 players", "quick play", "travel size"],
                "follow_ups": ["board game"],
            },
            {
                "name": "dice set",
                "price": (6, 40),
                "features": ["polyhedral", "metal", "7-piece", "with pouch"],
                "follow_ups": ["board game"],
            },
            {
                "name": "building blocks",
                "price": (15, 150),
                "features": ["500 pieces", "compatible bricks", "architecture", "creative"],
                "follow_ups": ["storage box"],
            },
            {
                "name": "storage box",
                "price": (10, 40),
                "features": ["stackable", "with dividers", "lid"],
                "follow_ups": ["building blocks"],
            },
            {
                "name": "wooden train set",
                "price": (25, 160),
                "features": ["80 pieces", "magnetic", "bridge", "toddler"],
                "follow_ups": ["play mat"],
            },
            {
                "name": "play mat",
                "price": (18, 90),
                "features": ["foam", "foldable", "non-toxic", "reversible"],
                "follow_ups": ["wooden train set"],
            },
            {
                "name": "art set",
                "price": (12, 80),
                "features": ["watercolour", "150 pieces", "carry case", "crayons and markers"],
                "follow_ups": ["sketchbook"],
            },
            {
                "name": "sketchbook",
                "price": (6, 30),
                "features": ["spiral", "mixed media", "A4", "acid-free"],
                "follow_ups": ["art set"],
            },
            {
                "name": "kite",
                "price": (10, 70),
                "features": ["delta", "beginner", "stunt", "with line"],
                "follow_ups": ["play mat", "board game"],
            },
        ],
    },
    {
        "name": "Travel",
        "brands": [
            "Wayfarer",
            "Jetlag Goods",
            "Passport & Co",
            "Nomada",
            "Carryon Lab",
            "Milestone",
        ],
        "materials": ["polycarbonate", "ballistic nylon", "leather", "canvas", "memory foam"],
        "types": [
            {
                "name": "carry-on suitcase",
                "price": (60, 420),
                "features": ["spinner wheels", "expandable", "TSA lock", "hardshell", "USB port"],
                "follow_ups": ["packing cubes", "luggage tag"],
            },
            {
                "name": "packing cubes",
                "price": (12, 50),
                "features": ["compression", "set of 6", "mesh top", "ultralight"],
                "follow_ups": ["toiletry bag"],
            },
            {
                "name": "toiletry bag",
                "price": (10, 60),
                "features": ["hanging", "waterproof", "TSA clear", "large"],
                "follow_ups": ["travel bottles"],
            },
            {
                "name": "travel bottles",
                "price": (6, 25),
                "features": ["leak-proof", "silicone", "3oz", "set of 4"],
                "follow_ups": ["toiletry bag"],
            },
            {
                "name": "travel pillow",
                "price": (10, 60),
                "features": ["memory foam", "inflatable", "chin support", "washable cover"],
                "follow_ups": ["sleep mask"],
            },
            {
                "name": "sleep mask",
                "price": (5, 35),
                "features": ["contoured", "silk", "blackout", "with earplugs"],
                "follow_ups": ["travel pillow"],
            },
            {
                "name": "luggage tag",
                "price": (5, 25),
                "features": ["leather", "privacy flap", "2-pack"],
                "follow_ups": ["carry-on suitcase"],
            },
            {
                "name": "travel adapter",
                "price": (10, 50),
                "features": ["universal", "4 USB ports", "fused", "compact"],
                "follow_ups": ["portable charger"],
            },
            {
                "name": "passport wallet",
                "price": (10, 70),
                "features": ["RFID blocking", "slim", "leather", "zip"],
                "follow_ups": ["luggage tag"],
            },
            {
                "name": "daypack",
                "price": (20, 140),
                "features": ["packable", "anti-theft", "20L", "water resistant"],
                "follow_ups": ["water bottle"],
            },
            {
                "name": "water bottle",
                "price": (10, 50),
                "features": ["insulated", "1L", "leak-proof", "collapsible", "stainless steel"],
                "follow_ups": ["daypack"],
            },
            {
                "name": "duffel bag",
                "price": (30, 200),
                "features": ["weekender", "shoe compartment", "60L", "convertible"],
                "follow_ups": ["packing cubes"],
            },
        ],
    },
    {
        "name": "Beauty & Care",
        "brands": [
            "Fernwood",
            "Lumiere Skin",
            "Bare & Bright",
            "Saltwater Soap Co",
            "Petalry",
            "Oakmoss",
        ],
        "materials": ["shea butter", "aloe vera", "argan oil", "charcoal", "oat"],
        "types": [
            {
                "name": "face moisturiser",
                "price": (8, 90),
                "features": ["SPF 30", "fragrance-free", "for dry skin", "hyaluronic acid"],
                "follow_ups": ["cleanser", "serum"],
            },
            {
                "name": "cleanser",
                "price": (6, 45),
                "features": ["gentle", "foaming", "for sensitive skin", "micellar"],
                "follow_ups": ["face moisturiser"],
            },
            {
                "name": "serum",
                "price": (10, 120),
                "features": ["vitamin C", "niacinamide", "retinol", "30ml"],
                "follow_ups": ["face moisturiser"],
            },
            {
                "name": "shampoo bar",
                "price": (6, 25),
                "features": ["plastic-free", "for curly hair", "sulfate-free"],
                "follow_ups": ["conditioner bar"],
            },
            {
                "name": "conditioner bar",
                "price": (6, 25),
                "features": ["plastic-free", "detangling", "vegan"],
                "follow_ups": ["shampoo bar"],
            },
            {
                "name": "electric toothbrush",
                "price": (20, 200),
                "features": ["sonic", "pressure sensor", "travel case", "4 modes"],
                "follow_ups": ["toothbrush heads"],
            },
            {
                "name": "toothbrush heads",
                "price": (8, 35),
                "features": ["4-pack", "soft bristles", "compatible"],
                "follow_ups": ["electric toothbrush"],
            },
            {
                "name": "hair dryer",
                "price": (25, 380),
                "features": ["ionic", "diffuser", "foldable", "1800W"],
                "follow_ups": ["hair brush"],
            },
            {
                "name": "hair brush",
                "price": (6, 60),
                "features": ["boar bristle", "detangling", "paddle", "vented"],
                "follow_ups": ["hair dryer"],
            },
            {
                "name": "lip balm",
                "price": (3, 18),
                "features": ["SPF 15", "4-pack", "tinted", "beeswax"],
                "follow_ups": ["hand cream"],
            },
            {
                "name": "hand cream",
                "price": (5, 35),
                "features": ["intensive", "non-greasy", "travel size", "unscented"],
                "follow_ups": ["lip balm"],
            },
            {
                "name": "sunscreen",
                "price": (8, 45),
                "features": ["SPF 50", "reef safe", "mineral", "water resistant"],
                "follow_ups": ["lip balm"],
            },
        ],
    },
]
