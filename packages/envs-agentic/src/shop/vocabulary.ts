/**
 * What the generated shop sells: categories of product types, each with the attributes a
 * product of that type may have, its option groups, and a price band.
 */

export interface ProductTypeSpec {
  readonly name: string
  readonly attributes: ReadonlyArray<string>
  /** Option groups by name, each with the values a product may offer. */
  readonly options: Readonly<Record<string, ReadonlyArray<string>>>
  /** Price band in dollars. */
  readonly price: readonly [number, number]
  /** Words for the description ("great for ..."). */
  readonly uses: ReadonlyArray<string>
}

export interface CategorySpec {
  readonly name: string
  readonly types: ReadonlyArray<ProductTypeSpec>
}

const colors = ["black", "white", "red", "blue", "green", "navy", "grey", "pink", "beige", "brown", "purple", "yellow"]
const clothingSizes = ["x-small", "small", "medium", "large", "x-large", "xx-large"]
const shoeSizes = ["size 6", "size 7", "size 8", "size 9", "size 10", "size 11", "size 12"]
const bedSizes = ["twin", "full", "queen", "king", "california king"]
const flavors = ["vanilla", "chocolate", "strawberry", "caramel", "sea salt", "honey", "peanut butter", "mint", "original", "cinnamon"]
const packs = ["pack of 1", "pack of 2", "pack of 3", "pack of 6", "pack of 12", "pack of 24"]
const scents = ["lavender", "citrus", "unscented", "rose", "coconut", "eucalyptus", "vanilla bean", "fresh linen"]
const volumes = ["2 fl oz", "4 fl oz", "8 fl oz", "12 fl oz", "16 fl oz", "32 fl oz"]
const lengths = ["3 ft", "6 ft", "10 ft", "15 ft"]
const weights = ["8 ounce", "12 ounce", "1 pound", "2 pound", "5 pound"]
const shades = ["nude", "ruby", "coral", "berry", "mauve", "plum", "peach", "cherry"]

const fashionAttrs = ["machine wash", "slim fit", "relaxed fit", "long sleeve", "short sleeve", "high waist", "button closure", "quick drying", "soft material", "breathable", "stretch fabric", "elastic waist"]
const shoeAttrs = ["non slip", "rubber sole", "lace up", "memory foam", "lightweight", "arch support", "water resistant", "slip on", "breathable", "wide fit"]
const beautyAttrs = ["long lasting", "paraben free", "cruelty free", "natural ingredients", "easy to apply", "travel size", "sensitive skin", "fragrance free", "vegan", "dermatologist tested"]
const groceryAttrs = ["gluten free", "sugar free", "low carb", "non gmo", "keto friendly", "organic", "high protein", "individually wrapped", "kosher", "low sodium", "dairy free"]
const techAttrs = ["fast charging", "wireless", "noise cancelling", "water resistant", "easy to install", "high definition", "plug and play", "long battery life", "bluetooth", "usb c", "compact design"]
const homeAttrs = ["machine washable", "easy clean", "non slip", "blackout", "super soft", "eco friendly", "space saving", "wrinkle free", "hypoallergenic", "quick drying", "fade resistant"]
const furnitureAttrs = ["easy assemble", "solid wood", "storage space", "metal legs", "high density", "mid century", "adjustable height", "space saving", "weight capacity", "padded seat", "living room"]
const petAttrs = ["grain free", "real meat", "chew resistant", "machine washable", "non toxic", "easy clean", "orthopedic", "natural ingredients", "small breed", "large breed"]

const t = (
  name: string,
  attributes: ReadonlyArray<string>,
  options: Readonly<Record<string, ReadonlyArray<string>>>,
  price: readonly [number, number],
  uses: ReadonlyArray<string>,
): ProductTypeSpec => ({ name, attributes, options, price, uses })

/** The categories and product types of the catalog. */
export const shopCategories: ReadonlyArray<CategorySpec> = [
  {
    name: "fashion",
    types: [
      t("dress", fashionAttrs, { color: colors, size: clothingSizes }, [18, 80], ["daily wear", "parties", "summer"]),
      t("jumpsuit", fashionAttrs, { color: colors, size: clothingSizes }, [20, 70], ["daily wear", "vacation", "work"]),
      t("t-shirt", fashionAttrs, { color: colors, size: clothingSizes }, [8, 35], ["daily wear", "workouts", "summer"]),
      t("hoodie", fashionAttrs, { color: colors, size: clothingSizes }, [20, 65], ["cold days", "sports", "daily wear"]),
      t("jeans", fashionAttrs, { color: colors, size: clothingSizes }, [22, 90], ["daily wear", "work", "weekends"]),
      t("sneakers", shoeAttrs, { color: colors, size: shoeSizes }, [25, 120], ["running", "walking", "gym"]),
      t("boots", shoeAttrs, { color: colors, size: shoeSizes }, [35, 160], ["hiking", "winter", "work"]),
      t("sandals", shoeAttrs, { color: colors, size: shoeSizes }, [12, 60], ["beach", "summer", "travel"]),
    ],
  },
  {
    name: "beauty",
    types: [
      t("shampoo", beautyAttrs, { scent: scents, size: volumes }, [6, 40], ["dry hair", "daily use", "curly hair"]),
      t("lipstick", beautyAttrs, { color: shades }, [5, 35], ["daily makeup", "parties", "gifts"]),
      t("face serum", beautyAttrs, { size: volumes }, [10, 70], ["dry skin", "night care", "daily use"]),
      t("nail polish", beautyAttrs, { color: shades }, [4, 20], ["manicures", "gifts", "parties"]),
      t("body lotion", beautyAttrs, { scent: scents, size: volumes }, [6, 30], ["dry skin", "daily use", "travel"]),
      t("hair extension", beautyAttrs, { color: ["black", "brown", "blonde", "auburn", "grey"], size: ["14 inch", "18 inch", "22 inch"] }, [15, 90], ["daily wear", "parties", "weddings"]),
    ],
  },
  {
    name: "grocery",
    types: [
      t("coffee", groceryAttrs, { flavor: flavors, size: weights }, [7, 40], ["mornings", "the office", "gifts"]),
      t("tea", groceryAttrs, { flavor: flavors, size: packs }, [4, 25], ["evenings", "the office", "gifts"]),
      t("snack bar", groceryAttrs, { flavor: flavors, size: packs }, [5, 35], ["hiking", "lunch boxes", "workouts"]),
      t("dark chocolate", groceryAttrs, { flavor: flavors, size: packs }, [4, 30], ["gifts", "baking", "desserts"]),
      t("beef jerky", groceryAttrs, { flavor: flavors, size: weights }, [6, 35], ["road trips", "hiking", "snacking"]),
      t("granola", groceryAttrs, { flavor: flavors, size: weights }, [4, 20], ["breakfast", "snacking", "yogurt"]),
      t("mixed nuts", groceryAttrs, { flavor: flavors, size: weights }, [6, 30], ["snacking", "parties", "baking"]),
    ],
  },
  {
    name: "electronics",
    types: [
      t("headphones", techAttrs, { color: colors }, [15, 250], ["travel", "workouts", "gaming"]),
      t("phone case", techAttrs, { color: colors }, [6, 40], ["daily use", "outdoor", "travel"]),
      t("charging cable", techAttrs, { color: colors, length: lengths }, [5, 25], ["home", "the car", "travel"]),
      t("bluetooth speaker", techAttrs, { color: colors }, [20, 180], ["parties", "the beach", "camping"]),
      t("hdmi cable", techAttrs, { length: lengths }, [6, 30], ["home theater", "gaming", "the office"]),
      t("wireless mouse", techAttrs, { color: colors }, [10, 60], ["the office", "gaming", "laptops"]),
    ],
  },
  {
    name: "home",
    types: [
      t("bed sheet set", homeAttrs, { color: colors, size: bedSizes }, [20, 110], ["bedrooms", "guest rooms", "all seasons"]),
      t("curtains", homeAttrs, { color: colors, size: ["42 x 63 inch", "52 x 84 inch", "52 x 95 inch"] }, [15, 70], ["living rooms", "bedrooms", "kitchens"]),
      t("throw blanket", homeAttrs, { color: colors, size: ["50 x 60 inch", "60 x 80 inch"] }, [15, 60], ["sofas", "beds", "picnics"]),
      t("bath towel", homeAttrs, { color: colors, size: packs }, [10, 50], ["bathrooms", "the gym", "the beach"]),
      t("area rug", homeAttrs, { color: colors, size: ["3 x 5 ft", "5 x 7 ft", "8 x 10 ft"] }, [30, 220], ["living rooms", "bedrooms", "hallways"]),
      t("shower curtain", homeAttrs, { color: colors }, [10, 40], ["bathrooms", "guest baths", "kids baths"]),
    ],
  },
  {
    name: "furniture",
    types: [
      t("office chair", furnitureAttrs, { color: colors }, [60, 350], ["home offices", "gaming", "study"]),
      t("bookshelf", furnitureAttrs, { color: ["white", "black", "oak", "walnut", "grey"] }, [40, 250], ["living rooms", "offices", "kids rooms"]),
      t("nightstand", furnitureAttrs, { color: ["white", "black", "oak", "walnut", "grey"] }, [30, 180], ["bedrooms", "guest rooms", "dorms"]),
      t("bar stool", furnitureAttrs, { color: colors, size: ["24 inch", "26 inch", "30 inch"] }, [35, 200], ["kitchens", "bars", "islands"]),
      t("tv stand", furnitureAttrs, { color: ["white", "black", "oak", "walnut", "grey"] }, [50, 300], ["living rooms", "bedrooms", "game rooms"]),
    ],
  },
  {
    name: "pets",
    types: [
      t("dog food", petAttrs, { flavor: ["chicken", "beef", "salmon", "lamb", "turkey"], size: weights }, [10, 80], ["adult dogs", "puppies", "senior dogs"]),
      t("cat toy", petAttrs, { color: colors }, [4, 25], ["indoor cats", "kittens", "play time"]),
      t("dog bed", petAttrs, { color: colors, size: clothingSizes }, [20, 120], ["crates", "living rooms", "travel"]),
      t("dog leash", petAttrs, { color: colors, length: lengths }, [8, 35], ["walks", "training", "hiking"]),
    ],
  },
]

/** Syllables for brand names. */
export const brandSyllables: ReadonlyArray<string> = [
  "ve", "lo", "ra", "mi", "no", "ka", "tu", "sa", "ri", "ze", "po", "la", "dex", "mar", "nor", "vin", "qua", "bel",
  "tor", "lin", "sol", "fen", "gra", "hal", "jor", "kel", "mo", "pra", "sty", "tha", "uri", "wex", "yor", "zu",
]
