/**
 * Background data for the cohort: countries of origin with names, languages and education
 * spread, AZC locations and COA casemanagers. Names are common given names and family names
 * combined at random; none of the combinations is meant to be a real person.
 */

export type Niveau = 'GEEN' | 'BASIS' | 'VOORTGEZET' | 'MBO' | 'HBO' | 'WO';

export interface Origin {
  land: string;
  nationaliteit: string;
  /** Share among asylum permit holders, roughly as in recent COA cohorts. */
  weight: number;
  male: readonly string[];
  female: readonly string[];
  family: readonly string[];
  /** Chance that a person carries two given names (e.g. Turkish "Mehmet Ali"). */
  twoGivenNames: number;
  /** Children carry the father's given name as family name (Eritrean and Somali custom). */
  patronymic: boolean;
  /** The wife takes the husband's family name. */
  partnerTakesName: boolean;
  /** Mother tongues with their weight. */
  moedertaal: readonly (readonly [string, number])[];
  /** Other languages often spoken, with the chance that an adult speaks it. */
  otherLanguages: readonly (readonly [string, number])[];
  /** Where young children were often born on the way (camps, transit countries). */
  transitBirthCountries: readonly string[];
  /** Highest education level reached, weights for men and for women. */
  education: {
    male: readonly (readonly [Niveau, number])[];
    female: readonly (readonly [Niveau, number])[];
  };
  /** Share of people registered with 1 January because the real day is unknown. */
  unknownBirthDay: number;
}

// Kept by hand in compact rows: one name per line would make the lists unreadable.
// prettier-ignore
export const ORIGINS: readonly Origin[] = [
  {
    land: 'Syrië',
    nationaliteit: 'Syrische',
    weight: 34,
    male: [
      'Ahmad', 'Mohammad', 'Omar', 'Khaled', 'Yousef', 'Ali', 'Hassan', 'Hussein', 'Mahmoud',
      'Ibrahim', 'Rami', 'Fadi', 'Samer', 'Tarek', 'Ziad', 'Hamza', 'Bilal', 'Anas', 'Majd',
      'Firas', 'Wael', 'Jamal', 'Karim', 'Mustafa', 'Adnan', 'Yaman', 'Louay', 'Nizar',
      'Muhannad', 'Ghaith',
    ],
    female: [
      'Fatima', 'Aya', 'Rasha', 'Lina', 'Rana', 'Hiba', 'Nour', 'Maryam', 'Sara', 'Dima', 'Reem',
      'Huda', 'Amal', 'Rania', 'Layla', 'Yasmin', 'Ghada', 'Salma', 'Hala', 'Noura', 'Zeinab',
      'Rahaf', 'Batoul', 'Alaa', 'Shahd', 'Joud', 'Razan', 'Lama',
    ],
    family: [
      'Al-Hamwi', 'Haddad', 'Khatib', 'Darwish', 'Hamdan', 'Al-Ahmad', 'Sabbagh', 'Shami',
      'Najjar', 'Halabi', 'Kassab', 'Mansour', 'Barakat', 'Al-Hussein', 'Qassem', 'Homsi',
      'Idlibi', 'Zein', 'Al-Khalil', 'Sleiman', 'Azzam', 'Tahan', 'Rifai', 'Dabbagh', 'Saleh',
      'Hammoud', 'Jaber', 'Al-Masri', 'Kurdi', 'Al-Omar', 'Alloush', 'Hijazi',
    ],
    twoGivenNames: 0.05,
    patronymic: false,
    partnerTakesName: false,
    moedertaal: [
      ['Arabisch', 82],
      ['Koerdisch (Kurmanci)', 15],
      ['Armeens', 3],
    ],
    otherLanguages: [
      ['Arabisch', 0.15],
      ['Turks', 0.3],
    ],
    transitBirthCountries: ['Turkije', 'Libanon', 'Jordanië'],
    education: {
      male: [['GEEN', 6], ['BASIS', 22], ['VOORTGEZET', 32], ['MBO', 14], ['HBO', 12], ['WO', 14]],
      female: [['GEEN', 10], ['BASIS', 26], ['VOORTGEZET', 30], ['MBO', 12], ['HBO', 10], ['WO', 12]],
    },
    unknownBirthDay: 0.05,
  },
  {
    land: 'Eritrea',
    nationaliteit: 'Eritrese',
    weight: 20,
    male: [
      'Tesfay', 'Yonas', 'Dawit', 'Kidane', 'Mebrahtu', 'Habtom', 'Berhane', 'Amanuel', 'Samuel',
      'Filmon', 'Robel', 'Mussie', 'Tekle', 'Yohannes', 'Efrem', 'Henok', 'Natnael', 'Biniam',
      'Merhawi', 'Goitom', 'Michael', 'Senay', 'Abraham', 'Ermias', 'Aron', 'Tedros', 'Kibrom',
    ],
    female: [
      'Helen', 'Senait', 'Selam', 'Luwam', 'Rahel', 'Saba', 'Yordanos', 'Feven', 'Hiwet', 'Mekdes',
      'Eden', 'Ruta', 'Winta', 'Bethlehem', 'Hanna', 'Tsega', 'Semhar', 'Lidya', 'Almaz', 'Abeba',
      'Freweyni', 'Elsa', 'Meron', 'Adiam',
    ],
    family: [
      'Tesfamariam', 'Ghebremedhin', 'Haile', 'Weldemichael', 'Kahsay', 'Tekeste', 'Gebreyesus',
      'Berhe', 'Negash', 'Asfaha', 'Mehari', 'Ghirmay', 'Habte', 'Andemariam', 'Woldu',
      'Okbazghi', 'Yemane', 'Zerai', 'Araya', 'Fessehaye', 'Tewelde', 'Kidane', 'Ghebrehiwet',
      'Measho', 'Embaye', 'Teklehaimanot',
    ],
    twoGivenNames: 0,
    patronymic: true,
    partnerTakesName: false,
    moedertaal: [
      ['Tigrinya', 88],
      ['Tigre', 9],
      ['Saho', 3],
    ],
    otherLanguages: [
      ['Arabisch', 0.2],
      ['Amhaars', 0.25],
    ],
    transitBirthCountries: ['Ethiopië', 'Soedan', 'Libië'],
    education: {
      male: [['GEEN', 14], ['BASIS', 34], ['VOORTGEZET', 36], ['MBO', 8], ['HBO', 5], ['WO', 3]],
      female: [['GEEN', 22], ['BASIS', 36], ['VOORTGEZET', 32], ['MBO', 5], ['HBO', 3], ['WO', 2]],
    },
    unknownBirthDay: 0.3,
  },
  {
    land: 'Afghanistan',
    nationaliteit: 'Afghaanse',
    weight: 13,
    male: [
      'Ahmad', 'Mohammad', 'Abdul', 'Farid', 'Jawad', 'Hamid', 'Sayed', 'Mansoor', 'Naser', 'Omid',
      'Rahim', 'Karim', 'Wahid', 'Zabihullah', 'Hashmatullah', 'Mirwais', 'Shafiq', 'Najib',
      'Habib', 'Qasim', 'Yama', 'Sharif', 'Ajmal', 'Fawad', 'Masoud', 'Parwiz', 'Rohullah',
      'Sohail',
    ],
    female: [
      'Fatema', 'Zahra', 'Maryam', 'Nargis', 'Freshta', 'Shabnam', 'Parwana', 'Soraya', 'Laila',
      'Zarghona', 'Nilofar', 'Homa', 'Mursal', 'Marwa', 'Roya', 'Shukria', 'Gul', 'Farzana',
      'Nazanin', 'Sadaf', 'Mahbooba', 'Hadisa',
    ],
    family: [
      'Ahmadi', 'Rahimi', 'Hakimi', 'Sultani', 'Karimi', 'Noori', 'Hashimi', 'Popal',
      'Stanekzai', 'Wardak', 'Safi', 'Amiri', 'Haidari', 'Jalali', 'Azizi', 'Mohammadi',
      'Rezaei', 'Hussaini', 'Sadat', 'Nazari', 'Faizi', 'Mirzaie', 'Qaderi', 'Samadi', 'Niazi',
    ],
    twoGivenNames: 0.05,
    patronymic: false,
    partnerTakesName: false,
    moedertaal: [
      ['Dari', 62],
      ['Pashto', 33],
      ['Oezbeeks', 5],
    ],
    otherLanguages: [
      ['Farsi', 0.3],
      ['Urdu', 0.15],
    ],
    transitBirthCountries: ['Iran', 'Pakistan', 'Turkije'],
    education: {
      male: [['GEEN', 18], ['BASIS', 24], ['VOORTGEZET', 30], ['MBO', 8], ['HBO', 10], ['WO', 10]],
      female: [['GEEN', 38], ['BASIS', 24], ['VOORTGEZET', 22], ['MBO', 5], ['HBO', 5], ['WO', 6]],
    },
    unknownBirthDay: 0.35,
  },
  {
    land: 'Jemen',
    nationaliteit: 'Jemenitische',
    weight: 8,
    male: [
      'Abdullah', 'Mohammed', 'Saleh', 'Ali', 'Abdulrahman', 'Nasser', 'Fuad', 'Khalid', 'Yahya',
      'Hamoud', 'Adel', 'Waleed', 'Amin', 'Majed', 'Hisham', 'Taha', 'Ammar', 'Ayman', 'Faisal',
      'Murad', 'Sami', 'Marwan', 'Hani', 'Nabil',
    ],
    female: [
      'Amira', 'Asma', 'Fatima', 'Hanan', 'Khadija', 'Maha', 'Nada', 'Samira', 'Wafa', 'Arwa',
      'Bushra', 'Ebtisam', 'Afrah', 'Huda', 'Iman', 'Safa', 'Abeer', 'Nadia', 'Lamia', 'Sumaya',
    ],
    family: [
      'Al-Sanani', 'Al-Adeni', 'Al-Hadrami', 'Al-Sharabi', 'Al-Ansi', 'Bawazir', 'Al-Qadi',
      'Al-Maqtari', 'Al-Hakimi', 'Al-Absi', 'Al-Eryani', 'Al-Kibsi', 'Al-Wazir', 'Al-Haddad',
      'Bin Salem', 'Al-Saqqaf', 'Al-Zubairi', 'Al-Dhubhani', 'Al-Ammari', 'Al-Mekhlafi',
    ],
    twoGivenNames: 0,
    patronymic: false,
    partnerTakesName: false,
    moedertaal: [['Arabisch', 1]],
    otherLanguages: [],
    transitBirthCountries: ['Saoedi-Arabië', 'Egypte'],
    education: {
      male: [['GEEN', 8], ['BASIS', 22], ['VOORTGEZET', 34], ['MBO', 10], ['HBO', 12], ['WO', 14]],
      female: [['GEEN', 16], ['BASIS', 26], ['VOORTGEZET', 30], ['MBO', 8], ['HBO', 10], ['WO', 10]],
    },
    unknownBirthDay: 0.1,
  },
  {
    land: 'Turkije',
    nationaliteit: 'Turkse',
    weight: 12,
    male: [
      'Mehmet', 'Mustafa', 'Ahmet', 'Ali', 'Hüseyin', 'Hasan', 'İbrahim', 'Murat', 'Emre', 'Burak',
      'Serkan', 'Kemal', 'Yusuf', 'Ömer', 'Osman', 'Fatih', 'Halil', 'Ramazan', 'Erkan', 'Cem',
      'Deniz', 'Baran', 'Serhat', 'Volkan', 'Onur', 'Şeref',
    ],
    female: [
      'Ayşe', 'Fatma', 'Emine', 'Hatice', 'Zeynep', 'Elif', 'Merve', 'Esra', 'Özlem', 'Gülşen',
      'Derya', 'Sevgi', 'Hülya', 'Büşra', 'Songül', 'Nurcan', 'Dilek', 'Rojda', 'Berfin', 'Leyla',
      'Şeyma', 'Kübra',
    ],
    family: [
      'Yılmaz', 'Kaya', 'Demir', 'Şahin', 'Çelik', 'Yıldız', 'Yıldırım', 'Öztürk', 'Aydın',
      'Özdemir', 'Arslan', 'Doğan', 'Kılıç', 'Aslan', 'Çetin', 'Kara', 'Koç', 'Kurt', 'Özkan',
      'Şimşek', 'Polat', 'Korkmaz', 'Akın', 'Aktaş', 'Tekin', 'Güneş',
    ],
    twoGivenNames: 0.2,
    patronymic: false,
    partnerTakesName: true,
    moedertaal: [
      ['Turks', 68],
      ['Koerdisch (Kurmanci)', 28],
      ['Zaza', 4],
    ],
    otherLanguages: [['Turks', 0.3]],
    transitBirthCountries: ['Griekenland'],
    education: {
      // Many recent Turkish asylum seekers are teachers, civil servants and academics.
      male: [['GEEN', 2], ['BASIS', 8], ['VOORTGEZET', 20], ['MBO', 12], ['HBO', 24], ['WO', 34]],
      female: [['GEEN', 3], ['BASIS', 10], ['VOORTGEZET', 20], ['MBO', 12], ['HBO', 24], ['WO', 31]],
    },
    unknownBirthDay: 0.01,
  },
  {
    land: 'Irak',
    nationaliteit: 'Iraakse',
    weight: 7,
    male: [
      'Haider', 'Mustafa', 'Ali', 'Hussein', 'Ahmed', 'Abbas', 'Karrar', 'Zaid', 'Saif', 'Ammar',
      'Laith', 'Mohanad', 'Hasan', 'Sajjad', 'Bakr', 'Yasir', 'Raed', 'Salah', 'Dilshad',
      'Rebwar', 'Kawa', 'Shwan', 'Aras', 'Hawkar',
    ],
    female: [
      'Zahraa', 'Noor', 'Ruqaya', 'Zainab', 'Fatima', 'Maryam', 'Shaimaa', 'Dunya', 'Israa',
      'Hawraa', 'Sura', 'Rusul', 'Tabarak', 'Shilan', 'Nazdar', 'Avin', 'Rozhin', 'Bayan',
      'Hadeel', 'Ban',
    ],
    family: [
      'Al-Jubouri', 'Al-Obaidi', 'Al-Saadi', 'Al-Tamimi', 'Al-Dulaimi', 'Al-Rubaie',
      'Al-Shammari', 'Al-Kaabi', 'Al-Zubaidi', 'Al-Bayati', 'Al-Khafaji', 'Hamad', 'Rashid',
      'Kareem', 'Mahmoud', 'Salih', 'Aziz', 'Khoshnaw', 'Bakir', 'Jaff', 'Qadir', 'Mustafa',
    ],
    twoGivenNames: 0,
    patronymic: false,
    partnerTakesName: false,
    moedertaal: [
      ['Arabisch', 64],
      ['Koerdisch (Sorani)', 30],
      ['Aramees', 6],
    ],
    otherLanguages: [['Arabisch', 0.25]],
    transitBirthCountries: ['Turkije', 'Syrië'],
    education: {
      male: [['GEEN', 8], ['BASIS', 24], ['VOORTGEZET', 32], ['MBO', 12], ['HBO', 12], ['WO', 12]],
      female: [['GEEN', 14], ['BASIS', 28], ['VOORTGEZET', 28], ['MBO', 10], ['HBO', 10], ['WO', 10]],
    },
    unknownBirthDay: 0.15,
  },
  {
    land: 'Somalië',
    nationaliteit: 'Somalische',
    weight: 6,
    male: [
      'Abdi', 'Abdirahman', 'Mohamed', 'Ahmed', 'Hassan', 'Omar', 'Yusuf', 'Ismail', 'Abdullahi',
      'Mahad', 'Liban', 'Farah', 'Hamza', 'Bashir', 'Jama', 'Abdikarim', 'Said', 'Mukhtar', 'Nuur',
      'Guled', 'Hamse', 'Khalid',
    ],
    female: [
      'Amina', 'Fadumo', 'Hodan', 'Halima', 'Sahra', 'Asha', 'Hawa', 'Ifrah', 'Khadra', 'Maryan',
      'Nimco', 'Ubah', 'Deeqa', 'Sagal', 'Ladan', 'Hibo', 'Muna', 'Sucaad', 'Ruqiya', 'Filsan',
    ],
    family: [
      'Abdi', 'Hassan', 'Farah', 'Warsame', 'Jama', 'Mohamud', 'Osman', 'Aden', 'Nur', 'Yusuf',
      'Dahir', 'Elmi', 'Ibrahim', 'Samatar', 'Duale', 'Gedi', 'Abdullahi', 'Ismail', 'Guleid',
      'Hersi', 'Awale', 'Barre',
    ],
    twoGivenNames: 0,
    patronymic: true,
    partnerTakesName: false,
    moedertaal: [['Somalisch', 1]],
    otherLanguages: [
      ['Arabisch', 0.2],
      ['Swahili', 0.1],
    ],
    transitBirthCountries: ['Kenia', 'Ethiopië', 'Jemen'],
    education: {
      male: [['GEEN', 20], ['BASIS', 30], ['VOORTGEZET', 32], ['MBO', 8], ['HBO', 6], ['WO', 4]],
      female: [['GEEN', 34], ['BASIS', 30], ['VOORTGEZET', 26], ['MBO', 5], ['HBO', 3], ['WO', 2]],
    },
    unknownBirthDay: 0.3,
  },
];

export interface AzcLocation {
  locatieCode: string;
  naam: string;
  weight: number;
  casemanagers: readonly { naam: string; email: string; telefoon: string }[];
}

function staff(naam: string, telefoon: string): { naam: string; email: string; telefoon: string } {
  const parts = naam.split(' ');
  const local = `${(parts[0] ?? 'x').charAt(0)}.${parts.slice(1).join('')}`.toLowerCase();
  return { naam, email: `${local}@coa.nl`, telefoon };
}

/**
 * Nareizigers report at the aanmeldcentrum in Ter Apel, so that is where COA links most of them
 * from; statushouders who went through the asylum procedure wait in one of the other AZCs.
 */
export const NAREIZIGER_AZC = 'TERAPEL';

export const AZC_LOCATIONS: readonly AzcLocation[] = [
  {
    locatieCode: 'BUD',
    naam: 'AZC Budel-Cranendonck',
    weight: 22,
    casemanagers: [
      staff('Marieke van Dijk', '+31 88 715 7101'),
      staff('Joost Verhoeven', '+31 88 715 7102'),
      staff('Fatima el Amrani', '+31 88 715 7103'),
    ],
  },
  {
    locatieCode: 'TERAPEL',
    naam: 'AC Ter Apel',
    weight: 10,
    casemanagers: [
      staff('Henk Bosma', '+31 88 715 7201'),
      staff('Ingrid Wiersma', '+31 88 715 7202'),
      staff('Sanne Dijkstra', '+31 88 715 7203'),
    ],
  },
  {
    locatieCode: 'GRAVE',
    naam: 'AZC Grave',
    weight: 16,
    casemanagers: [
      staff('Ruud Janssen', '+31 88 715 7301'),
      staff('Lotte Hendriks', '+31 88 715 7302'),
    ],
  },
  {
    locatieCode: 'ZWOLLE',
    naam: 'AZC Zwolle',
    weight: 19,
    casemanagers: [
      staff('Gerrit Kamphuis', '+31 88 715 7401'),
      staff('Annemiek Brinkman', '+31 88 715 7402'),
      staff('Yusuf Demirci', '+31 88 715 7403'),
    ],
  },
  {
    locatieCode: 'AMERSFRT',
    naam: 'AZC Amersfoort',
    weight: 18,
    casemanagers: [
      staff('Esther de Graaf', '+31 88 715 7501'),
      staff('Pieter van Leeuwen', '+31 88 715 7502'),
    ],
  },
  {
    locatieCode: 'MUSSELKNL',
    naam: 'AZC Musselkanaal',
    weight: 9,
    casemanagers: [
      staff('Wilma Hoekstra', '+31 88 715 7601'),
      staff('Bram Oosterhuis', '+31 88 715 7602'),
    ],
  },
];

/** Occupations as a COA casemanager writes them down, by rough level. */
// prettier-ignore
export const BEROEPEN = {
  laag: [
    'bouwvakker', 'landbouw', 'schoonmaker', 'kapper', 'naaister', 'kok', 'vrachtwagenchauffeur',
    'winkelmedewerker', 'automonteur', 'timmerman', 'bakker', 'lasser', 'veehouder', 'schilder',
    'magazijnmedewerker', 'taxichauffeur', 'tegelzetter', 'slager',
  ],
  midden: [
    'elektricien', 'kleermaker', 'loodgieter', 'administratief medewerker', 'koerier',
    'verkoper', 'horecamedewerker', 'monteur airco', 'kinderopvang', 'kassamedewerker',
    'juwelier', 'fotograaf',
  ],
  hoog: [
    'docent', 'verpleegkundige', 'apotheker', 'civiel ingenieur', 'boekhouder', 'IT-beheerder',
    'arts', 'advocaat', 'journalist', 'leraar basisschool', 'tandarts', 'architect',
    'softwareontwikkelaar', 'bankmedewerker', 'ambtenaar', 'tolk',
  ],
} as const;

export const VOORINBURGERING_ACTIVITEITEN = [
  'Nederlandse les (voorinburgering)',
  'Workshop Kennis van de Nederlandse Maatschappij',
  'Oriëntatie op de arbeidsmarkt',
  'Vrijwilligerswerk op de locatie',
  'Fietsles',
  'Training digitale vaardigheden',
  'Voorlichting over wonen en energie',
  'Taalcafé met vrijwilligers',
] as const;

export const MEDISCHE_BIJZONDERHEDEN = [
  'Diabetes type 2, onder behandeling via GZA.',
  'Rugklachten; kan niet zwaar tillen.',
  'Posttraumatische klachten; in behandeling bij GGZ.',
  'Hoge bloeddruk, gebruikt medicatie.',
  'Astma; heeft een inhaler.',
  'Slechthorend aan één kant.',
  'Slechtziend; bril aangevraagd.',
  'Chronische hoofdpijn; verwezen naar neuroloog.',
  'Knieblessure; fysiotherapie loopt.',
  'Slaapproblemen; contact met praktijkondersteuner GZA.',
] as const;

export const VERWACHTINGEN = [
  'Verwacht snel een woning, het liefst in de buurt van familie.',
  'Hoopt dat het diploma erkend wordt (IDW-waardering aangevraagd).',
  'Wil dat de kinderen zo snel mogelijk naar school kunnen.',
  'Verwacht hulp bij het vinden van werk.',
  'Heeft vragen over gezinshereniging en de komst van familie.',
  'Wil graag in een stad wonen vanwege opleidingsmogelijkheden.',
  'Maakt zich zorgen over geldzaken en de eerste maanden zonder inkomen.',
  'Wil graag een vaste contactpersoon bij de gemeente.',
] as const;
