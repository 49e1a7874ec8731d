package synthetic

import (
	"strings"

	"github.com/cohort-clinical/cohort/internal/volunteer"
)

// name is one name in Latin script, optionally with its spelling in the
// culture's own script, and its ASCII letters for email addresses.
type name struct {
	latin, native, ascii string
}

// culture is a naming tradition: given names by sex, family names, and how
// they combine.
type culture struct {
	id             string
	female, male   []name
	family         []name
	middle         float64 // chance of a second given name
	doubleFamily   bool    // Spanish: two family names
	feminineFamily func(string) string
	nativeRate     float64 // chance of recording the name in the native script as an other name
	nativeFamilyFirst,
	nativeSpaced bool
}

func names(list string) []name {
	var out []name
	for _, s := range strings.Split(list, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		latin, native, _ := strings.Cut(s, "|")
		out = append(out, name{latin: latin, native: native, ascii: asciiLetters(latin)})
	}
	return out
}

// asciiLetters returns the lower-case ASCII letters of a name, for email
// addresses: "Ögünleye" is "ogunleye", "de Vries" is "devries".
func asciiLetters(s string) string {
	n := volunteer.NormalizeName(s)
	b := make([]byte, 0, len(n))
	for i := 0; i < len(n); i++ {
		if n[i] >= 'a' && n[i] <= 'z' {
			b = append(b, n[i])
		}
	}
	return string(b)
}

// polishFeminine inflects Polish adjectival family names for women:
// Kowalski → Kowalska, Zieliński → Zielińska, Nowicki → Nowicka.
func polishFeminine(s string) string {
	for _, suf := range []string{"ski", "cki", "dzki"} {
		if strings.HasSuffix(s, suf) {
			return strings.TrimSuffix(s, "i") + "a"
		}
	}
	return s
}

// The lists are common names of each culture, spelt with the accents the
// culture uses, so normalisation and matching meet real spellings.
var cultures = []*culture{
	{
		id:     "english",
		female: names("Olivia, Amelia, Emily, Sophie, Charlotte, Grace, Jessica, Hannah, Lucy, Ellie, Chloe, Rebecca, Sarah, Emma, Laura, Catherine, Margaret, Elizabeth, Siobhán, Niamh"),
		male:   names("Oliver, George, Harry, Jack, James, William, Thomas, Charlie, Daniel, Joshua, Samuel, Matthew, Michael, David, Christopher, Andrew, Stephen, Philip, Seán, Rhys"),
		family: names("Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, Wright, Thompson, Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, Clarke, O'Brien, O'Connor, McDonald, MacLeod, Fitzgerald, Hughes, Edwards, Lewis, Harris, Morgan"),
		middle: 0.35,
	},
	{
		id:     "dutch",
		female: names("Emma, Julia, Sophie, Fleur, Anouk, Sanne, Lotte, Iris, Femke, Lieke, Noor, Chloë, Maartje, Ilse, Marloes, Joëlle, Annemieke, Inge, Esther, Willemijn"),
		male:   names("Daan, Sem, Lucas, Bram, Jesse, Thijs, Lars, Ruben, Pieter, Joost, Maarten, Sjoerd, Wouter, Jan Willem, Gijs, Stijn, Koen, Niels, Joris, Teun"),
		family: names("de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, Meijer, de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, Brouwer, de Wit, Dijkstra, Smits, de Graaf, van der Meer, van der Linden, Kok, Jacobs, van 't Hof, Schouten"),
		middle: 0.15,
	},
	{
		id:     "german",
		female: names("Sophie, Marie, Hannah, Lea, Anna, Lena, Laura, Julia, Katharina, Sabine, Ute, Birgit, Anja, Bärbel, Jördis, Käthe, Gülay, Lotte, Frauke, Heike"),
		male:   names("Lukas, Maximilian, Jonas, Leon, Felix, Paul, Jürgen, Jörg, Uwe, Klaus, Stefan, Matthias, Andreas, Tobias, Sebastian, Björn, Günther, Torsten, Moritz, Florian"),
		family: names("Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Schäfer, Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Krüger, Hübner, Weiß, Groß, Strauß, Maier, Mayer, Hartmann, Lange, Köhler"),
		middle: 0.25,
	},
	{
		id:     "french",
		female: names("Léa, Chloé, Manon, Camille, Inès, Zoé, Éloïse, Hélène, Céline, Amélie, Océane, Margaux, Anaïs, Noémie, Clémence, Juliette, Maëlle, Agathe, Béatrice, Françoise"),
		male:   names("Jean, Pierre, Louis, Hugo, Théo, Mathéo, Raphaël, Gabriel, François, Jérôme, Étienne, Benoît, Loïc, Anaël, Rémi, Sébastien, Jean-Pierre, Jean-Baptiste, Frédéric, Noël"),
		family: names("Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Simon, Laurent, Lefèvre, Michel, Roux, Fournier, Girard, Lefebvre, Bonnet, Dupont, Lambert, Fontaine, Rousseau, Chevalier, Mercier, Blanc, Guérin, Faure, André, Gauthier"),
		middle: 0.2,
	},
	{
		id:           "spanish",
		female:       names("María, Carmen, Ana, Lucía, Laura, Marta, Sofía, Elena, Begoña, Inés, Raquel, Pilar, Nuria, Mónica, Rocío, Ainhoa, María José, Lourdes, Julia, Paula"),
		male:         names("José, Antonio, Manuel, Francisco, David, Juan, Javier, Daniel, Álvaro, Iñigo, Ramón, Jesús, Sergio, Pablo, Adrián, Rubén, Íker, Óscar, Víctor, Ángel"),
		family:       names("García, Rodríguez, González, Fernández, López, Martínez, Sánchez, Pérez, Gómez, Martín, Jiménez, Ruiz, Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Alonso, Gutiérrez, Navarro, Torres, Domínguez, Vázquez, Ramos, Gil, Ramírez, Serrano, Núñez, Iglesias"),
		doubleFamily: true,
	},
	{
		id:             "polish",
		female:         names("Zofia, Zuzanna, Julia, Maja, Hanna, Małgorzata, Agnieszka, Katarzyna, Magdalena, Joanna, Ewa, Dorota, Grażyna, Bożena, Aleksandra, Natalia, Wiktoria, Anna, Beata, Jolanta"),
		male:           names("Jakub, Kacper, Szymon, Filip, Jan, Wojciech, Łukasz, Michał, Paweł, Bartłomiej, Krzysztof, Piotr, Tomasz, Grzegorz, Mateusz, Marcin, Dawid, Rafał, Przemysław, Zbigniew"),
		family:         names("Nowak, Kowalski, Wiśniewski, Wójcik, Kowalczyk, Kamiński, Lewandowski, Zieliński, Szymański, Woźniak, Dąbrowski, Kozłowski, Jankowski, Mazur, Kwiatkowski, Krawczyk, Piotrowski, Grabowski, Pawłowski, Michalski, Król, Wieczorek, Jabłoński, Wróbel, Górski, Nowicki, Sadowski, Zając, Wilk, Stępień"),
		feminineFamily: polishFeminine,
	},
	{
		id:     "turkish",
		female: names("Fatma, Ayşe, Emine, Hatice, Zeynep, Elif, Meryem, Şerife, Zehra, Özlem, Gülsüm, Büşra, Esra, Merve, İrem, Ebru, Sevgi, Gül, Nur, Dilek"),
		male:   names("Mehmet, Mustafa, Ahmet, Ali, Hüseyin, Hasan, İbrahim, İsmail, Osman, Yusuf, Murat, Ömer, Emre, Burak, Çağlar, Oğuz, Serkan, Uğur, Kemal, Barış"),
		family: names("Yılmaz, Kaya, Demir, Şahin, Çelik, Yıldız, Yıldırım, Öztürk, Aydın, Özdemir, Arslan, Doğan, Kılıç, Aslan, Çetin, Kara, Koç, Kurt, Özkan, Şimşek, Polat, Erdoğan, Güneş, Aksoy, Keskin, Ünal, Acar, Tekin, Bulut, Türk"),
	},
	{
		id:     "indian",
		female: names("Priya, Ananya, Diya, Aditi, Kavya, Pooja, Neha, Sunita, Lakshmi, Deepika, Meera, Shreya, Divya, Harpreet, Simran, Anjali, Nisha, Rekha, Swati, Padma"),
		male:   names("Aarav, Vivaan, Aditya, Arjun, Rohan, Rahul, Amit, Sanjay, Vikram, Rajesh, Suresh, Pranav, Karthik, Gurpreet, Harjit, Anil, Manoj, Ravi, Venkatesh, Siddharth"),
		family: names("Sharma, Patel, Singh, Kumar, Gupta, Reddy, Iyer, Nair, Rao, Shah, Mehta, Joshi, Desai, Kapoor, Malhotra, Chopra, Banerjee, Chatterjee, Mukherjee, Das, Pillai, Menon, Verma, Agarwal, Bhat, Krishnan, Srinivasan, Choudhury, Gill, Sandhu"),
		feminineFamily: func(s string) string {
			if s == "Singh" {
				return "Kaur" // Sikh women's name
			}
			return s
		},
	},
	{
		id:                "chinese",
		female:            names("Fang|芳, Min|敏, Jing|静, Li|丽, Yan|艳, Xiuying|秀英, Na|娜, Hui|慧, Ping|平, Xinyi|欣怡, Ruoxi|若汐, Zihan|子涵, Yuxin|雨欣, Lan|兰, Mei|梅, Xiaoling|晓玲, Yun|云, Ting|婷, Qian|倩, Lihua|丽华"),
		male:              names("Wei|伟, Qiang|强, Lei|磊, Jun|军, Yong|勇, Jie|杰, Tao|涛, Ming|明, Chao|超, Xiaoming|小明, Hao|浩, Yu|宇, Haoran|浩然, Yuxuan|宇轩, Zhiwei|志伟, Jian|建, Bo|波, Gang|刚, Peng|鹏, Long|龙"),
		family:            names("Wang|王, Li|李, Zhang|张, Liu|刘, Chen|陈, Yang|杨, Huang|黄, Zhao|赵, Wu|吴, Zhou|周, Xu|徐, Sun|孙, Ma|马, Zhu|朱, Hu|胡, Guo|郭, He|何, Lin|林, Luo|罗, Gao|高"),
		nativeRate:        0.5,
		nativeFamilyFirst: true,
	},
	{
		id:     "nigerian",
		female: names("Chiamaka, Ngozi, Adaeze, Folake, Funmilayo, Yetunde, Aisha, Amina, Blessing, Chioma, Nkechi, Temitope, Abimbola, Ifeoma, Oluwaseun, Adéọlá, Fọláṣadé, Zainab, Halima, Ebere"),
		male:   names("Adebayo, Chinedu, Emeka, Obinna, Babatunde, Olumide, Tunde, Ikechukwu, Musa, Abubakar, Ibrahim, Chukwuemeka, Nnamdi, Olúwaṣeun, Kunle, Segun, Uchenna, Femi, Yakubu, Ayodele"),
		family: names("Okafor, Okeke, Adeyemi, Ogunleye, Adebayo, Eze, Nwosu, Obi, Balogun, Okonkwo, Olawale, Ibrahim, Bello, Abubakar, Mohammed, Adewale, Nwachukwu, Chukwu, Ogunbiyi, Adéyẹmí, Ògúnlẹ́yẹ, Ọláwálé, Onyekachi, Eze-Okafor, Akinola, Oyelaran, Danjuma, Usman, Lawal, Babangida"),
	},
	{
		id:           "arabic",
		female:       names("Fatima|فاطمة, Aisha|عائشة, Mariam|مريم, Noor|نور, Layla|ليلى, Zainab|زينب, Huda|هدى, Salma|سلمى, Yasmin|ياسمين, Rania|رانيا, Amira|أميرة, Hana|هناء, Leila|ليلى, Samira|سميرة, Nadia|نادية"),
		male:         names("Mohammed|محمد, Ahmed|أحمد, Ali|علي, Omar|عمر, Youssef|يوسف, Khalid|خالد, Hassan|حسن, Hussein|حسين, Ibrahim|إبراهيم, Abdullah|عبد الله, Mahmoud|محمود, Tariq|طارق, Karim|كريم, Samir|سمير, Mustafa|مصطفى"),
		family:       names("Haddad|حداد, Khoury|خوري, Nasser|ناصر, Saleh|صالح, Mansour|منصور, Hamdan|حمدان, Darwish|درويش, Khalil|خليل, Suleiman|سليمان, Barakat|بركات, Aziz|عزيز, Hijazi|حجازي, Al-Masri|المصري, Al-Hashimi|الهاشمي, El-Amin|الأمين, Abdallah|عبد الله, Qasim|قاسم, Rahman|رحمن, Farouk|فاروق, Zaki|زكي"),
		nativeRate:   0.3,
		nativeSpaced: true,
	},
}
