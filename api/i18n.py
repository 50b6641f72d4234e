"""Danish first, English second: the language of a request and the UI strings in both languages."""

from __future__ import annotations

from fastapi import Request

LANGUAGES = ("da", "en")
LANG_COOKIE = "lang"

MESSAGES: dict[str, dict[str, str]] = {
    "site.name": {"da": "Arbejdsmiljøviden", "en": "Arbejdsmiljøviden"},
    "site.tagline": {
        "da": "Samlet, åben viden om arbejdsmiljø: problemer, løsninger og aktører, der kan hjælpe.",
        "en": "Open, shared knowledge about the work environment: problems, solutions and the actors who can help.",
    },
    "nav.home": {"da": "Forside", "en": "Home"},
    "nav.skip": {"da": "Spring til indhold", "en": "Skip to content"},
    "lang.switch": {"da": "English", "en": "Dansk"},
    "home.numbers": {"da": "Det rummer vidensgrafen", "en": "What the knowledge graph holds"},
    "home.schemes": {"da": "Begrebssystemer", "en": "Concept schemes"},
    "home.concepts": {"da": "begreber", "en": "concepts"},
    "count.item": {"da": "vidensressourcer", "en": "knowledge items"},
    "count.problem": {"da": "arbejdsmiljøproblemer", "en": "work-environment problems"},
    "count.solution": {"da": "løsninger", "en": "solutions"},
    "count.actor": {"da": "aktører", "en": "actors"},
    "count.event": {"da": "arrangementer", "en": "events"},
    "count.concept": {"da": "begreber", "en": "concepts"},
    "count.scheme": {"da": "begrebssystemer", "en": "concept schemes"},
    "nav.vocabularies": {"da": "Begreber", "en": "Concepts"},
    "nav.actors": {"da": "Aktører", "en": "Actors"},
    "nav.events": {"da": "Arrangementer", "en": "Events"},
    "nav.coverage": {"da": "Videnskort", "en": "Coverage map"},
    "nav.about": {"da": "Om data", "en": "About the data"},
    "nav.contribute": {"da": "Indberet viden", "en": "Contribute"},
    "nav.main": {"da": "Hovedmenu", "en": "Main menu"},
    "search.label": {"da": "Søg i Arbejdsmiljøviden", "en": "Search Arbejdsmiljøviden"},
    "search.button": {"da": "Søg", "en": "Search"},
    "search.results": {"da": "Søgeresultater", "en": "Search results"},
    "search.none": {"da": "Ingen resultater. Prøv et andet ord.", "en": "No results. Try another word."},
    "search.placeholder": {"da": "fx støj, tunge løft, stress", "en": "e.g. noise, heavy lifting, stress"},
    "home.browse_factor": {"da": "Find viden efter arbejdsmiljøfaktor", "en": "Browse by work-environment factor"},
    "home.browse_industry": {"da": "Find viden efter branche", "en": "Browse by industry"},
    "home.newest": {"da": "Nyeste viden", "en": "Newest knowledge"},
    "home.upcoming": {"da": "Kommende arrangementer", "en": "Upcoming events"},
    "home.all_events": {"da": "Alle arrangementer", "en": "All events"},
    "data.formats": {"da": "Data om denne side", "en": "Data about this page"},
    "concept.breadcrumb": {"da": "Placering i hierarkiet", "en": "Place in the hierarchy"},
    "concept.scheme": {"da": "Begrebssystem", "en": "Concept scheme"},
    "concept.labels": {"da": "Betegnelser", "en": "Labels"},
    "concept.preferred": {"da": "Foretrukken betegnelse", "en": "Preferred label"},
    "concept.narrower": {"da": "Underbegreber", "en": "Narrower concepts"},
    "concept.related": {"da": "Relaterede begreber", "en": "Related concepts"},
    "concept.mappings": {"da": "Tilsvarende begreber andre steder", "en": "Matching concepts elsewhere"},
    "concept.tagged": {
        "da": "Det handler om dette begreb (inkl. underbegreber)",
        "en": "Tagged with this concept (incl. narrower)",
    },
    "concept.none_tagged": {
        "da": "Intet i grafen er endnu opmærket med dette begreb.",
        "en": "Nothing in the graph is tagged with this concept yet.",
    },
    "concept.all_items": {
        "da": "Se alle vidensressourcer om dette begreb",
        "en": "See all knowledge items on this concept",
    },
    "concept.history": {"da": "Ændringer", "en": "Changes"},
    "concept.showing": {"da": "Viser de nyeste", "en": "Showing the newest"},
    "deprecated.notice": {
        "da": "Dette begreb er udgået og bør ikke længere bruges.",
        "en": "This concept is deprecated and should no longer be used.",
    },
    "deprecated.replaced_by": {"da": "Brug i stedet", "en": "Use instead"},
    "scheme.tree": {"da": "Hierarki", "en": "Hierarchy"},
    "scheme.index": {"da": "Alfabetisk indeks", "en": "Alphabetical index"},
    "scheme.index_nav": {"da": "Bogstaver", "en": "Letters"},
    "scheme.use": {"da": "se", "en": "see"},
    "record.links_here": {"da": "Forbindelser hertil", "en": "Linked from"},
    "record.modified": {"da": "Sidst ændret", "en": "Last changed"},
    "kind.item": {"da": "Vidensressource", "en": "Knowledge item"},
    "kind.problem": {"da": "Arbejdsmiljøproblem", "en": "Work-environment problem"},
    "kind.solution": {"da": "Løsning", "en": "Solution"},
    "kind.actor": {"da": "Aktør", "en": "Actor"},
    "kind.event": {"da": "Arrangement", "en": "Event"},
    "kinds.item": {"da": "Vidensressourcer", "en": "Knowledge items"},
    "kinds.problem": {"da": "Arbejdsmiljøproblemer", "en": "Work-environment problems"},
    "kinds.solution": {"da": "Løsninger", "en": "Solutions"},
    "kinds.actor": {"da": "Aktører", "en": "Actors"},
    "kinds.event": {"da": "Arrangementer", "en": "Events"},
    "incoming.solution.solves": {"da": "Løsninger på problemet", "en": "Solutions to this problem"},
    "incoming.item.addresses": {"da": "Viden om problemet", "en": "Knowledge about this problem"},
    "incoming.item.describesSolution": {"da": "Viden bag løsningen", "en": "Knowledge behind this solution"},
    "incoming.solution.offeredBy": {"da": "Løsninger, aktøren tilbyder", "en": "Solutions this actor offers"},
    "incoming.item.publisher": {"da": "Viden udgivet af aktøren", "en": "Knowledge published by this actor"},
    "incoming.item.creator": {"da": "Viden skabt af aktøren", "en": "Knowledge created by this actor"},
    "incoming.event.organizer": {"da": "Arrangementer, aktøren holder", "en": "Events this actor organises"},
    "tombstone.title": {"da": "Posten er trukket tilbage", "en": "This record has been withdrawn"},
    "tombstone.when": {"da": "Trukket tilbage", "en": "Withdrawn"},
    "tombstone.reason": {"da": "Begrundelse", "en": "Reason"},
    "notfound.title": {"da": "Siden findes ikke", "en": "Page not found"},
    "notfound.text": {
        "da": "Der findes ingen ressource med denne adresse. Prøv at søge:",
        "en": "There is no resource at this address. Try searching:",
    },
    "submit.title": {"da": "Indberet viden", "en": "Contribute knowledge"},
    "submit.intro": {
        "da": "Vælg, hvad du vil indberette. Redaktionen gennemgår alt, før det bliver offentligt.",
        "en": "Choose what to contribute. The editors review everything before it is published.",
    },
    "submit.review_note": {
        "da": "Din indberetning bliver synlig for alle, når en redaktør har godkendt den.",
        "en": "Your contribution becomes visible to everyone once an editor has approved it.",
    },
    "submit.has_errors": {"da": "Ret venligst disse felter:", "en": "Please correct these fields:"},
    "submit.required": {"da": "skal udfyldes", "en": "required"},
    "submit.lang.da": {"da": "På dansk", "en": "In Danish"},
    "submit.lang.en": {"da": "På engelsk", "en": "In English"},
    "submit.send": {"da": "Send til godkendelse", "en": "Send for review"},
    "submit.mine": {"da": "Mine indberetninger", "en": "My contributions"},
    "submit.thanks": {
        "da": "Tak! Din indberetning venter nu på en redaktørs godkendelse.",
        "en": "Thank you! Your contribution is now waiting for an editor's approval.",
    },
    "submit.none": {"da": "Du har ikke indberettet noget endnu.", "en": "You have not contributed anything yet."},
    "submit.another": {"da": "Indberet mere", "en": "Contribute more"},
    "submit.col.title": {"da": "Titel", "en": "Title"},
    "submit.col.type": {"da": "Type", "en": "Type"},
    "submit.col.status": {"da": "Status", "en": "Status"},
    "submit.col.when": {"da": "Indberettet", "en": "Submitted"},
    "status.pending": {"da": "Venter på godkendelse", "en": "Waiting for review"},
    "status.approved": {"da": "Godkendt og offentliggjort", "en": "Approved and published"},
    "status.rejected": {"da": "Afvist", "en": "Rejected"},
    "review.title": {"da": "Til godkendelse", "en": "Review queue"},
    "review.filter": {"da": "Vis", "en": "Show"},
    "review.empty": {"da": "Der er intet at godkende.", "en": "Nothing to review."},
    "review.content": {"da": "Indhold (RDF)", "en": "Content (RDF)"},
    "review.approve": {"da": "Godkend og offentliggør", "en": "Approve and publish"},
    "review.reject": {"da": "Afvis", "en": "Reject"},
    "review.reason": {"da": "Begrundelse for afvisning", "en": "Reason for rejecting"},
    "sparql.download": {"da": "Hent resultatet som", "en": "Download the result as"},
    "login.title": {"da": "Log ind", "en": "Log in"},
    "login.email": {"da": "E-mail", "en": "E-mail"},
    "login.password": {"da": "Adgangskode", "en": "Password"},
    "login.submit": {"da": "Log ind", "en": "Log in"},
    "login.wrong": {"da": "Forkert e-mail eller adgangskode.", "en": "Wrong e-mail or password."},
    "login.too_many": {
        "da": "For mange mislykkede forsøg. Vent et kvarter, og prøv igen.",
        "en": "Too many failed attempts. Wait a quarter of an hour and try again.",
    },
    "login.expired": {
        "da": "Formularen er udløbet. Prøv igen.",
        "en": "The form has expired. Please try again.",
    },
    "account.title": {"da": "Din konto", "en": "Your account"},
    "account.name": {"da": "Navn", "en": "Name"},
    "account.role": {"da": "Rolle", "en": "Role"},
    "account.logout": {"da": "Log ud", "en": "Log out"},
    "role.contributor": {"da": "Bidragyder", "en": "Contributor"},
    "role.editor": {"da": "Redaktør", "en": "Editor"},
    "role.admin": {"da": "Administrator", "en": "Administrator"},
    "footer.licence": {
        "da": "Data under CC BY 4.0. Persistente identifikatorer under",
        "en": "Data under CC BY 4.0. Persistent identifiers under",
    },
    # -- events calendar and actors directory (/events, /events.ics, /actors) --------------------
    "month.1": {"da": "januar", "en": "January"},
    "month.2": {"da": "februar", "en": "February"},
    "month.3": {"da": "marts", "en": "March"},
    "month.4": {"da": "april", "en": "April"},
    "month.5": {"da": "maj", "en": "May"},
    "month.6": {"da": "juni", "en": "June"},
    "month.7": {"da": "juli", "en": "July"},
    "month.8": {"da": "august", "en": "August"},
    "month.9": {"da": "september", "en": "September"},
    "month.10": {"da": "oktober", "en": "October"},
    "month.11": {"da": "november", "en": "November"},
    "month.12": {"da": "december", "en": "December"},
    "filter.all": {"da": "Alle", "en": "All"},
    "filter.apply": {"da": "Vis resultater", "en": "Show results"},
    "filter.reset": {"da": "Nulstil filtre", "en": "Clear filters"},
    "filter.rejected": {
        "da": "Filteret fik en værdi, vi ikke kender, og den er ignoreret:",
        "en": "The filter got a value we do not know, and it has been ignored:",
    },
    "filter.factor": {"da": "Arbejdsmiljøfaktor", "en": "Work-environment factor"},
    "filter.industry": {"da": "Branche", "en": "Industry"},
    "filter.region": {"da": "Region", "en": "Region"},
    "filter.narrower_note": {
        "da": "Valg af et begreb medtager også dets underbegreber. Tallet i parentes er antallet af resultater.",
        "en": "Choosing a concept includes its narrower concepts. The number in brackets is the number of results.",
    },
    "events.title": {"da": "Arrangementer", "en": "Events"},
    "events.intro": {
        "da": "Konferencer, seminarer, kurser og andre arrangementer om arbejdsmiljø. Tider er dansk tid.",
        "en": "Conferences, seminars, courses and other events about the work environment. Times are Danish time.",
    },
    "events.filters": {"da": "Find arrangementer", "en": "Find events"},
    "events.filter.type": {"da": "Arrangementstype", "en": "Event type"},
    "events.upcoming": {"da": "Kommende arrangementer", "en": "Upcoming events"},
    "events.none_upcoming": {
        "da": "Der er ingen kommende arrangementer, der passer til dit valg.",
        "en": "There are no upcoming events that match your choice.",
    },
    "events.past": {"da": "Tidligere arrangementer", "en": "Past events"},
    "events.none_past": {
        "da": "Der er ingen tidligere arrangementer, der passer til dit valg.",
        "en": "There are no past events that match your choice.",
    },
    "events.past_pages": {"da": "Sider med tidligere arrangementer", "en": "Pages of past events"},
    "events.older": {"da": "Ældre arrangementer", "en": "Older events"},
    "events.newer": {"da": "Nyere arrangementer", "en": "Newer events"},
    "events.page": {"da": "Side", "en": "Page"},
    "events.of": {"da": "af", "en": "of"},
    "events.when": {"da": "Tidspunkt", "en": "When"},
    "events.type": {"da": "Type", "en": "Type"},
    "events.location": {"da": "Sted", "en": "Location"},
    "events.organisers": {"da": "Arrangør", "en": "Organiser"},
    "events.clock": {"da": "kl.", "en": "at"},
    "events.subscribe": {"da": "Abonnér på kalenderen (iCalendar)", "en": "Subscribe to the calendar (iCalendar)"},
    "events.subscribe_filtered": {
        "da": "Abonnér på de valgte arrangementer (iCalendar)",
        "en": "Subscribe to the chosen events (iCalendar)",
    },
    "events.calendar_name": {"da": "Arbejdsmiljøviden – arrangementer", "en": "Arbejdsmiljøviden – events"},
    "events.add_to_calendar": {"da": "Føj til kalender (.ics)", "en": "Add to calendar (.ics)"},
    "actors.title": {"da": "Aktører", "en": "Actors"},
    "actors.intro": {
        "da": "Myndigheder, forskningscentre, branchefællesskaber, rådgivere og andre, der har viden om "
        "arbejdsmiljø eller kan hjælpe.",
        "en": "Authorities, research centres, industry bodies, advisers and others who hold knowledge about the "
        "work environment or can help.",
    },
    "actors.filters": {"da": "Find aktører", "en": "Find actors"},
    "actors.filter.type": {"da": "Aktørtype", "en": "Actor type"},
    "actors.filter.factor": {"da": "Ekspertise: arbejdsmiljøfaktor", "en": "Expertise: work-environment factor"},
    "actors.filter.industry": {"da": "Ekspertise: branche", "en": "Expertise: industry"},
    "actors.filter.region": {"da": "Region", "en": "Region"},
    "actors.showing": {"da": "Viser", "en": "Showing"},
    "actors.of": {"da": "af", "en": "of"},
    "actors.none": {"da": "Ingen aktører passer til dit valg.", "en": "No actors match your choice."},
    "actors.types": {"da": "Type", "en": "Type"},
    "actors.regions": {"da": "Region", "en": "Region"},
    "actors.expertise": {"da": "Ekspertise", "en": "Expertise"},
    "actors.other_names": {"da": "Også kendt som", "en": "Also known as"},
    "actors.website": {"da": "Website", "en": "Website"},
    # -- coverage map, item list, about the data (/coverage, /items, /about) ----------------------
    "coverage.title": {"da": "Videnskort", "en": "Coverage map"},
    "coverage.intro": {
        "da": "Hvor meget viden findes der om hver arbejdsmiljøfaktor i hver branche? Hver celle viser, hvor mange "
        "vidensressourcer der handler om faktoren og branchen (eller et af deres underbegreber). Tomme celler (0) "
        "viser huller i vidensgrundlaget. Vælg et tal for at se vidensressourcerne.",
        "en": "How much knowledge exists about each work-environment factor in each industry? Each cell shows how "
        "many knowledge items are about the factor and the industry (or one of their narrower concepts). Empty cells "
        "(0) show gaps in the knowledge base. Choose a number to see the knowledge items.",
    },
    "coverage.caption": {
        "da": "Antal vidensressourcer pr. arbejdsmiljøfaktor (rækker) og branche (kolonner: DB07-hovedafdelinger)",
        "en": "Number of knowledge items per work-environment factor (rows) and industry (columns: DB07 sections)",
    },
    "coverage.factor": {"da": "Arbejdsmiljøfaktor", "en": "Work-environment factor"},
    "coverage.total": {"da": "I alt", "en": "Total"},
    "coverage.all_items": {"da": "Alle vidensressourcer", "en": "All knowledge items"},
    "coverage.legend": {"da": "Farveforklaring", "en": "Colour key"},
    "coverage.legend_empty": {"da": "ingen viden", "en": "no knowledge"},
    "coverage.legend_more": {"da": "eller flere", "en": "or more"},
    "coverage.totals_note": {
        "da": "»I alt« tæller hver vidensressource én gang, også når den gælder flere brancher, eller når den ikke er "
        "knyttet til en DB07-branche (fx fordi den gælder alle brancher eller kun er knyttet til Arbejdstilsynets "
        "branchegrupper).",
        "en": "“Total” counts each knowledge item once, also when it applies to several industries, or when it is not "
        "linked to a DB07 industry (e.g. because it applies to all industries or is linked only to the Working "
        "Environment Authority's industry groups).",
    },
    "coverage.sections": {"da": "Brancher (DB07-hovedafdelinger)", "en": "Industries (DB07 sections)"},
    "coverage.scroll": {
        "da": "Tabellen kan rulles vandret på små skærme.",
        "en": "The table scrolls horizontally on small screens.",
    },
    "items.title": {"da": "Vidensressourcer", "en": "Knowledge items"},
    "items.filtered_by": {"da": "Udvalgt efter", "en": "Filtered by"},
    "items.incl_narrower": {"da": "inkl. underbegreber", "en": "incl. narrower concepts"},
    "items.remove_filter": {"da": "Fjern filteret", "en": "Remove this filter"},
    "items.filter.factor": {"da": "Arbejdsmiljøfaktor", "en": "Work-environment factor"},
    "items.filter.industry": {"da": "Branche", "en": "Industry"},
    "items.filter.knowledgeType": {"da": "Videnstype", "en": "Knowledge type"},
    "items.filter.evidenceLevel": {"da": "Evidensniveau", "en": "Level of evidence"},
    "items.count": {"da": "vidensressourcer", "en": "knowledge items"},
    "items.showing": {"da": "viser", "en": "showing"},
    "items.none": {
        "da": "Der er endnu ingen vidensressourcer, der passer til dette udvalg.",
        "en": "There are no knowledge items matching this selection yet.",
    },
    "items.no_such_page": {"da": "Den side findes ikke i listen.", "en": "This page does not exist in the list."},
    "items.type": {"da": "Videnstype", "en": "Knowledge type"},
    "items.publisher": {"da": "Udgiver", "en": "Publisher"},
    "items.year": {"da": "År", "en": "Year"},
    "items.pages": {"da": "Sider", "en": "Pages"},
    "items.page": {"da": "Side", "en": "Page"},
    "items.of": {"da": "af", "en": "of"},
    "items.prev": {"da": "Forrige side", "en": "Previous page"},
    "items.next": {"da": "Næste side", "en": "Next page"},
    "items.to_coverage": {"da": "Se videnskortet", "en": "See the coverage map"},
    "badrequest.title": {"da": "Forespørgslen kan ikke besvares", "en": "The request cannot be answered"},
    "badrequest.where": {"da": "Parameter", "en": "Parameter"},
    "badrequest.back": {"da": "Vis alle vidensressourcer", "en": "Show all knowledge items"},
    "about.title": {"da": "Om data", "en": "About the data"},
    "about.what": {"da": "Hvad er datasættet?", "en": "What is the dataset?"},
    "about.licence": {"da": "Licens", "en": "Licence"},
    "about.licence_text": {
        "da": "Data må frit deles og bearbejdes, også kommercielt, når Arbejdsmiljøviden angives som kilde:",
        "en": "The data may be freely shared and adapted, also commercially, when Arbejdsmiljøviden is credited:",
    },
    "about.cite": {"da": "Sådan citerer du datasættet", "en": "How to cite the dataset"},
    "about.cite_dataset": {"da": "datasæt", "en": "dataset"},
    "about.cite_accessed": {"da": "hentet", "en": "accessed"},
    "about.contents": {"da": "Indhold", "en": "Contents"},
    "about.contents_caption": {
        "da": "Antal poster pr. type og antal tripler i det offentlige datasæt",
        "en": "Number of records per type and number of triples in the public dataset",
    },
    "about.kind": {"da": "Type", "en": "Type"},
    "about.number": {"da": "Antal", "en": "Number"},
    "about.triples": {"da": "RDF-tripler i alt", "en": "RDF triples in total"},
    "about.entities": {"da": "Ressourcer med egen identifikator", "en": "Resources with their own identifier"},
    "about.modified": {"da": "Senest ændret", "en": "Last changed"},
    "about.schemes": {"da": "Begrebssystemer", "en": "Concept schemes"},
    "about.download": {"da": "Download", "en": "Download"},
    "about.download_text": {
        "da": "Hele det offentlige datasæt som komprimerede filer (gzip). Filerne dannes på ny, når data ændres.",
        "en": "The whole public dataset as compressed files (gzip). The files are regenerated when the data changes.",
    },
    "about.void": {"da": "Maskinlæsbar beskrivelse af datasættet", "en": "Machine-readable description of the dataset"},
    "about.void_text": {
        "da": "VoID- og DCAT-beskrivelse (Turtle, JSON-LD, RDF/XML eller N-Triples efter Accept-headeren):",
        "en": "VoID and DCAT description (Turtle, JSON-LD, RDF/XML or N-Triples according to the Accept header):",
    },
    "about.sparql": {"da": "SPARQL", "en": "SPARQL"},
    "about.sparql_available": {
        "da": "Stil dine egne spørgsmål til hele grafen med SPARQL 1.1 på",
        "en": "Ask your own questions of the whole graph with SPARQL 1.1 at",
    },
    "about.sparql_soon": {
        "da": "Et offentligt SPARQL 1.1-endpoint kommer snart på adressen /sparql. Indtil da kan du hente hele "
        "datasættet ovenfor.",
        "en": "A public SPARQL 1.1 endpoint is coming soon at /sparql. Until then you can download the whole dataset "
        "above.",
    },
    "about.identifiers": {"da": "Identifikatorer", "en": "Identifiers"},
    "about.identifiers_text": {
        "da": "Alle begreber og poster har varige identifikatorer under",
        "en": "Every concept and record has a persistent identifier under",
    },
    "about.negotiation": {
        "da": "Hver identifikator svarer med HTML i en browser og med Turtle, JSON-LD, RDF/XML eller N-Triples til "
        "maskiner.",
        "en": "Each identifier answers with HTML in a browser and with Turtle, JSON-LD, RDF/XML or N-Triples for "
        "machines.",
    },
    # -- browser tests and accessibility fixes (tests/test_browser.py) --------------------------
    "scheme.toggle": {"da": "Underbegreber til", "en": "Narrower concepts of"},
    # -- SPARQL query page and example gallery (/sparql) ---------------------------------------
    "sparql.title": {"da": "SPARQL-forespørgsler", "en": "SPARQL queries"},
    "sparql.intro": {
        "da": "Stil dine egne spørgsmål til hele vidensgrafen med SPARQL 1.1. Standardgrafen er foreningen af alle "
        "offentlige grafer: ontologien, begrebssystemerne og alle publicerede poster, så du behøver ikke GRAPH.",
        "en": "Ask your own questions of the whole knowledge graph with SPARQL 1.1. The default graph is the union "
        "of all public graphs: the ontology, the concept schemes and every published record, so you need no GRAPH.",
    },
    "sparql.endpoint": {
        "da": "Programmer kan sende forespørgsler direkte til endpointet efter SPARQL 1.1-protokollen "
        "(GET eller POST):",
        "en": "Programs can send queries straight to the endpoint by the SPARQL 1.1 protocol (GET or POST):",
    },
    "sparql.editor": {"da": "Forespørgsel", "en": "Query"},
    "sparql.query_label": {"da": "Forespørgsel (SPARQL 1.1)", "en": "Query (SPARQL 1.1)"},
    "sparql.format_label": {"da": "Resultatformat", "en": "Result format"},
    "sparql.format.html": {"da": "HTML-tabel (vis på siden)", "en": "HTML table (show on the page)"},
    "sparql.format_note": {
        "da": "CSV, TSV, SPARQL JSON og XML passer til SELECT og ASK; Turtle, N-Triples, RDF/XML og JSON-LD til "
        "CONSTRUCT og DESCRIBE.",
        "en": "CSV, TSV, SPARQL JSON and XML suit SELECT and ASK; Turtle, N-Triples, RDF/XML and JSON-LD suit "
        "CONSTRUCT and DESCRIBE.",
    },
    "sparql.run": {"da": "Kør forespørgslen", "en": "Run the query"},
    "sparql.page_size": {"da": "Rækker pr. side", "en": "Rows per page"},
    "sparql.plain_form": {"da": "Enkel formular uden editor", "en": "Plain form without the editor"},
    "sparql.editor_keys": {
        "da": "I editoren kører Ctrl+Enter forespørgslen, Ctrl+Mellemrum giver forslag, og Esc fører videre til "
        "knappen, der kører forespørgslen.",
        "en": "In the editor, Ctrl+Enter runs the query, Ctrl+Space gives suggestions, and Esc moves on to the "
        "button that runs the query.",
    },
    "sparql.unknown_example": {
        "da": "Der findes intet eksempel med navnet",
        "en": "There is no example with the name",
    },
    "sparql.choose_example": {"da": "Vælg et af eksemplerne nedenfor.", "en": "Choose one of the examples below."},
    "sparql.results": {"da": "Resultat", "en": "Result"},
    "sparql.results_caption": {"da": "Resultatet af forespørgslen", "en": "The result of the query"},
    "sparql.rows": {"da": "rækker", "en": "rows"},
    "sparql.triples": {"da": "tripler", "en": "triples"},
    "sparql.truncated": {
        "da": "Resultatet er afkortet til loftet over antal rækker. Gør forespørgslen snævrere, brug LIMIT og OFFSET, "
        "eller hent hele datasættet.",
        "en": "The result has been cut off at the row cap. Narrow the query, use LIMIT and OFFSET, or download the "
        "whole dataset.",
    },
    "sparql.no_results": {"da": "Forespørgslen gav ingen resultater.", "en": "The query returned no results."},
    "sparql.ask_answer": {"da": "Svar", "en": "Answer"},
    "sparql.ask_true": {"da": "ja (true)", "en": "yes (true)"},
    "sparql.ask_false": {"da": "nej (false)", "en": "no (false)"},
    "sparql.error": {"da": "Forespørgslen kunne ikke køres", "en": "The query could not be run"},
    "sparql.limits": {"da": "Begrænsninger", "en": "Limits"},
    "sparql.limit_time": {"da": "En forespørgsel må højst køre i", "en": "A query may run for at most"},
    "sparql.seconds": {"da": "sekunder", "en": "seconds"},
    "sparql.limit_rows": {"da": "Et resultat har højst", "en": "A result has at most"},
    "sparql.rows_or_triples": {"da": "rækker eller tripler", "en": "rows or triples"},
    "sparql.limit_service": {
        "da": "Endpointet kan kun læse: SERVICE (fødererede forespørgsler), LOAD og andre opdateringer er ikke "
        "tilladt.",
        "en": "The endpoint is read-only: SERVICE (federated queries), LOAD and other updates are not allowed.",
    },
    "sparql.limit_unavailable": {
        "da": "Endpointet er ikke tilgængeligt i denne installation.",
        "en": "The endpoint is not available in this installation.",
    },
    "sparql.limit_dumps": {
        "da": "Skal du bruge hele datasættet, så hent det som filer under",
        "en": "If you need the whole dataset, download it as files from",
    },
    "sparql.prefixes": {"da": "Præfikser i editoren", "en": "Prefixes in the editor"},
    "sparql.examples": {"da": "Eksempler på forespørgsler", "en": "Example queries"},
    "sparql.examples_intro": {
        "da": "Vælg et eksempel for at åbne det i formularen ovenfor. Ret gerne i det, før du kører det.",
        "en": "Choose an example to open it in the form above. Feel free to change it before you run it.",
    },
    "sparql.open_example": {"da": "Åbn eksemplet", "en": "Open the example"},
    "sparql.in_editor": {"da": "vises i formularen", "en": "shown in the form"},
    "sparql.form": {"da": "Forespørgselstype", "en": "Query form"},
    # -- feeds (/feeds/items.atom|json, /feeds/events.atom|json) ----------------------------------
    "feeds.label": {"da": "Nyhedsfeeds", "en": "News feeds"},
    "feeds.subscribe": {"da": "Abonnér (RSS/Atom)", "en": "Subscribe (RSS/Atom)"},
    "feeds.json": {"da": "JSON Feed", "en": "JSON Feed"},
    # -- search (/search, /api/search) -----------------------------------------------------------
    "search.refine": {"da": "Afgræns søgningen", "en": "Refine the search"},
    "search.sort": {"da": "Sortér", "en": "Sort"},
    "search.sort.relevance": {"da": "Bedste match", "en": "Best match"},
    "search.sort.newest": {"da": "Nyeste først", "en": "Newest first"},
    "search.understood": {"da": "Viser resultater for", "en": "Showing results for"},
    "search.and_narrower": {"da": "og underbegreber", "en": "and narrower concepts"},
    "search.for_word": {"da": "for ordet", "en": "for the word"},
    "search.not_concept": {"da": "Søg uden dette begreb", "en": "Search without this concept"},
    "search.hits": {"da": "Resultater", "en": "Results"},
    "search.found": {"da": "fundet", "en": "found"},
    "search.chosen": {"da": "Valgte filtre", "en": "Chosen filters"},
    "search.remove": {"da": "Fjern", "en": "Remove"},
    "search.relaxed": {
        "da": "Intet indeholdt alle ordene. Viser resultater, der passer med nogle af dem.",
        "en": "Nothing matched all the words. Showing results that match some of them.",
    },
    "search.did_you_mean": {"da": "Mente du", "en": "Did you mean"},
    "search.try_broader": {"da": "Prøv et bredere begreb:", "en": "Try a broader concept:"},
    "search.narrower": {"da": "Underbegreber", "en": "Narrower concepts"},
    "search.apply": {"da": "Opdatér resultaterne", "en": "Update the results"},
    "search.facet.factor": {"da": "Arbejdsmiljøfaktor", "en": "Work-environment factor"},
    "search.facet.industry": {"da": "Branche", "en": "Industry"},
    "search.facet.knowledgeType": {"da": "Videnstype", "en": "Knowledge type"},
    "search.facet.evidenceLevel": {"da": "Evidensniveau", "en": "Level of evidence"},
    "search.facet.audience": {"da": "Målgruppe", "en": "Audience"},
    "search.facet.actor": {"da": "Udgiver eller arrangør", "en": "Publisher or organiser"},
    "search.facet.year": {"da": "År", "en": "Year"},
    "search.facet.type": {"da": "Type", "en": "Type"},
}


def request_language(request: Request) -> str:
    """`?lang=` wins (and is remembered in a cookie), then the cookie, then Danish."""
    asked = request.query_params.get("lang")
    if asked in LANGUAGES:
        return asked
    cookie = request.cookies.get(LANG_COOKIE)
    return cookie if cookie in LANGUAGES else "da"


def translator(lang: str):  # noqa: ANN201 - returns a plain callable for templates
    def t(key: str) -> str:
        entry = MESSAGES.get(key)
        if entry is None:
            raise KeyError(f"no UI string {key!r}")
        return entry.get(lang) or entry["da"]

    return t
