package synthetic

import (
	"strconv"
)

// city is a city with its region and the range of its postal codes (as a
// number; see country.postal).
type city struct {
	name, region string
	lo, hi       int
	area         string // British postcode area
}

// country is where the unit is: it decides phones, addresses and which
// naming culture is local.
type country struct {
	code    string
	local   string // id of the local naming culture
	streets []string
	cities  []city
	// line1 writes a street address the way the country does.
	line1 func(r *rng, street string) string
	line2 func(r *rng) string
	// postal writes the postal code of a city.
	postal func(r *rng, c city) string
	// mobile and landline return E.164 numbers.
	mobile, landline func(r *rng) string
}

func digits(r *rng, b []byte, n int) []byte {
	for range n {
		b = append(b, byte('0'+r.intn(10)))
	}
	return b
}

func number(prefix string, n int) func(r *rng) string {
	return func(r *rng) string {
		return string(digits(r, []byte(prefix), n))
	}
}

func padded(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

var usAreaCodes = []string{"212", "312", "415", "512", "617", "713", "801", "305"}

func inRange(r *rng, c city) int { return c.lo + r.intn(c.hi-c.lo+1) }

// Phone numbers: the British and North American ones are in the ranges their
// regulators reserve for drama and examples (Ofcom 07700 900xxx and
// 020 7946 0xxx; NANP 555-01xx), so nobody is ever rung by a demo. Other
// countries reserve no such range; their numbers have the right shape but may
// exist, which is why synthetic data must never reach a real SMS gateway.
var countries = map[string]*country{
	"GB": {
		code: "GB", local: "english",
		streets: []string{"High Street", "Station Road", "Church Lane", "Victoria Road", "Green Lane", "Manor Road", "Park Avenue", "Queen's Road", "Mill Lane", "The Crescent", "St John's Close", "Windsor Gardens"},
		cities: []city{
			{name: "London", region: "Greater London", area: "SE"}, {name: "London", region: "Greater London", area: "N"},
			{name: "Manchester", region: "Greater Manchester", area: "M"}, {name: "Leeds", region: "West Yorkshire", area: "LS"},
			{name: "Bristol", region: "Bristol", area: "BS"}, {name: "Cardiff", region: "Wales", area: "CF"},
			{name: "Edinburgh", region: "Scotland", area: "EH"}, {name: "Nottingham", region: "Nottinghamshire", area: "NG"},
		},
		line1: func(r *rng, street string) string { return strconv.Itoa(1+r.intn(180)) + " " + street },
		line2: func(r *rng) string { return "Flat " + strconv.Itoa(1+r.intn(30)) },
		postal: func(r *rng, c city) string {
			const letters = "ABDEFGHJLNPQRSTUWXYZ"
			return c.area + strconv.Itoa(1+r.intn(20)) + " " + strconv.Itoa(r.intn(10)) +
				string(letters[r.intn(len(letters))]) + string(letters[r.intn(len(letters))])
		},
		mobile:   number("+447700900", 3),
		landline: number("+442079460", 3),
	},
	"NL": {
		code: "NL", local: "dutch",
		streets: []string{"Kerkstraat", "Dorpsstraat", "Schoolstraat", "Molenweg", "Stationsweg", "Julianastraat", "Beatrixlaan", "Prinses Irenestraat", "Wilhelminaplein", "Oranjegracht", "Van 't Hoffstraat", "Lindenlaan"},
		cities: []city{
			{name: "Amsterdam", region: "Noord-Holland", lo: 1011, hi: 1109}, {name: "Rotterdam", region: "Zuid-Holland", lo: 3011, hi: 3089},
			{name: "Utrecht", region: "Utrecht", lo: 3511, hi: 3585}, {name: "Groningen", region: "Groningen", lo: 9711, hi: 9747},
			{name: "Leiden", region: "Zuid-Holland", lo: 2311, hi: 2334}, {name: "Eindhoven", region: "Noord-Brabant", lo: 5611, hi: 5658},
			{name: "'s-Hertogenbosch", region: "Noord-Brabant", lo: 5211, hi: 5249},
		},
		line1: func(r *rng, street string) string { return street + " " + strconv.Itoa(1+r.intn(150)) },
		line2: func(r *rng) string { return strconv.Itoa(1+r.intn(4)) + "-hoog" },
		postal: func(r *rng, c city) string {
			const letters = "ABCEGHJKLMNPRTVWXZ" // no SA, SD or SS combinations
			return strconv.Itoa(inRange(r, c)) + " " + string(letters[r.intn(len(letters))]) + string(letters[r.intn(len(letters))])
		},
		mobile:   number("+316", 8),
		landline: number("+3120", 7),
	},
	"DE": {
		code: "DE", local: "german",
		streets: []string{"Hauptstraße", "Schulstraße", "Gartenstraße", "Bahnhofstraße", "Dorfstraße", "Bergstraße", "Lindenstraße", "Goethestraße", "Schillerstraße", "Am Mühlbach", "Königsallee", "Weißdornweg"},
		cities: []city{
			{name: "Berlin", region: "Berlin", lo: 10115, hi: 14199}, {name: "München", region: "Bayern", lo: 80331, hi: 81929},
			{name: "Köln", region: "Nordrhein-Westfalen", lo: 50667, hi: 51149}, {name: "Hamburg", region: "Hamburg", lo: 20095, hi: 22769},
			{name: "Frankfurt am Main", region: "Hessen", lo: 60306, hi: 60599}, {name: "Düsseldorf", region: "Nordrhein-Westfalen", lo: 40210, hi: 40629},
			{name: "Würzburg", region: "Bayern", lo: 97070, hi: 97084},
		},
		line1:    func(r *rng, street string) string { return street + " " + strconv.Itoa(1+r.intn(120)) },
		line2:    func(r *rng) string { return strconv.Itoa(1+r.intn(5)) + ". OG" },
		postal:   func(r *rng, c city) string { return padded(inRange(r, c), 5) },
		mobile:   number("+4915", 9),
		landline: number("+4930", 8),
	},
	"FR": {
		code: "FR", local: "french",
		streets: []string{"rue de la République", "rue Victor Hugo", "avenue Jean Jaurès", "rue de l'Église", "place de la Mairie", "boulevard Pasteur", "rue du Général de Gaulle", "chemin des Écoliers", "allée des Châtaigniers", "rue de la Gare", "impasse des Lilas", "quai Saint-Michel"},
		cities: []city{
			{name: "Paris", region: "Île-de-France", lo: 75001, hi: 75020}, {name: "Lyon", region: "Auvergne-Rhône-Alpes", lo: 69001, hi: 69009},
			{name: "Marseille", region: "Provence-Alpes-Côte d'Azur", lo: 13001, hi: 13016}, {name: "Toulouse", region: "Occitanie", lo: 31000, hi: 31500},
			{name: "Nantes", region: "Pays de la Loire", lo: 44000, hi: 44300}, {name: "Lille", region: "Hauts-de-France", lo: 59000, hi: 59800},
			{name: "Besançon", region: "Bourgogne-Franche-Comté", lo: 25000, hi: 25000},
		},
		line1:    func(r *rng, street string) string { return strconv.Itoa(1+r.intn(120)) + " " + street },
		line2:    func(r *rng) string { return "Bâtiment " + string(rune('A'+r.intn(4))) },
		postal:   func(r *rng, c city) string { return padded(inRange(r, c), 5) },
		mobile:   number("+336", 8),
		landline: number("+331", 8),
	},
	"ES": {
		code: "ES", local: "spanish",
		streets: []string{"Calle Mayor", "Calle Real", "Avenida de la Constitución", "Calle de Alcalá", "Plaza de España", "Calle San José", "Calle Nueva", "Avenida de Andalucía", "Calle del Carmen", "Passeig de Gràcia", "Calle Doctor Fleming", "Ronda de Segovia"},
		cities: []city{
			{name: "Madrid", region: "Comunidad de Madrid", lo: 28001, hi: 28055}, {name: "Barcelona", region: "Cataluña", lo: 8001, hi: 8042},
			{name: "Sevilla", region: "Andalucía", lo: 41001, hi: 41020}, {name: "Valencia", region: "Comunidad Valenciana", lo: 46001, hi: 46026},
			{name: "Bilbao", region: "País Vasco", lo: 48001, hi: 48015}, {name: "Zaragoza", region: "Aragón", lo: 50001, hi: 50021},
			{name: "A Coruña", region: "Galicia", lo: 15001, hi: 15011},
		},
		line1:    func(r *rng, street string) string { return street + ", " + strconv.Itoa(1+r.intn(150)) },
		line2:    func(r *rng) string { return strconv.Itoa(1+r.intn(8)) + ".º " + string(rune('A'+r.intn(4))) },
		postal:   func(r *rng, c city) string { return padded(inRange(r, c), 5) },
		mobile:   number("+346", 8),
		landline: number("+3491", 7),
	},
	"PL": {
		code: "PL", local: "polish",
		streets: []string{"ul. Marszałkowska", "ul. Piłsudskiego", "ul. Mickiewicza", "ul. Kościuszki", "ul. Słowackiego", "ul. Długa", "ul. Polna", "ul. Leśna", "al. Jerozolimskie", "ul. Żeromskiego", "ul. Świętokrzyska", "ul. Źródlana"},
		cities: []city{
			{name: "Warszawa", region: "mazowieckie", lo: 1, hi: 4999}, {name: "Kraków", region: "małopolskie", lo: 30001, hi: 31999},
			{name: "Łódź", region: "łódzkie", lo: 90001, hi: 94999}, {name: "Wrocław", region: "dolnośląskie", lo: 50001, hi: 54999},
			{name: "Poznań", region: "wielkopolskie", lo: 60001, hi: 61999}, {name: "Gdańsk", region: "pomorskie", lo: 80001, hi: 80999},
		},
		line1: func(r *rng, street string) string { return street + " " + strconv.Itoa(1+r.intn(140)) },
		line2: func(r *rng) string { return "m. " + strconv.Itoa(1+r.intn(60)) },
		postal: func(r *rng, c city) string {
			s := padded(inRange(r, c), 5)
			return s[:2] + "-" + s[2:]
		},
		mobile:   number("+486", 8),
		landline: number("+4822", 7),
	},
	"US": {
		code: "US", local: "english",
		streets: []string{"Main Street", "Oak Street", "Maple Avenue", "Park Avenue", "Washington Street", "Elm Street", "Cedar Lane", "Lake Drive", "Pine Street", "Sunset Boulevard", "Hillcrest Road", "Jefferson Avenue"},
		cities: []city{
			{name: "Baltimore", region: "MD", lo: 21201, hi: 21239}, {name: "Austin", region: "TX", lo: 78701, hi: 78759},
			{name: "San Antonio", region: "TX", lo: 78201, hi: 78260}, {name: "Miami", region: "FL", lo: 33125, hi: 33199},
			{name: "Lenexa", region: "KS", lo: 66215, hi: 66220}, {name: "Madison", region: "WI", lo: 53703, hi: 53726},
			{name: "Salt Lake City", region: "UT", lo: 84101, hi: 84121},
		},
		line1:  func(r *rng, street string) string { return strconv.Itoa(100+r.intn(9800)) + " " + street },
		line2:  func(r *rng) string { return "Apt " + strconv.Itoa(1+r.intn(40)) + string(rune('A'+r.intn(4))) },
		postal: func(r *rng, c city) string { return padded(inRange(r, c), 5) },
		mobile: func(r *rng) string {
			return string(digits(r, []byte("+1"+pick(r, usAreaCodes)+"55501"), 2))
		},
		landline: func(r *rng) string { return string(digits(r, []byte("+141055501"), 2)) },
	},
}
