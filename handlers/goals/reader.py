"""A structural reader of goal text: who, actions, quantities, measures, results, dates and cadences.

It reads the way an evaluator vets a draft against the Massachusetts S.M.A.R.T. elements, from structure
rather than from bags of keywords. An action must have an educator or team as its subject (or be
introduced as the means, "through ..."), a baseline and a target must sit in the same clause, a date's role
comes from the words around it ("by", "starting", "benchmark"), and grade bands, dosage ("20-minute
groups") and years never count as measures. Everything is plain Python and regular expressions, so it runs
offline, gives the same answer every time, and each verdict carries the words it was read from.

`read` returns a `Reading` (the findings); `critique` turns it into one verdict per element, with at most
one tip each, worded in prompts/templates/goals/critique/.
"""

from __future__ import annotations

import calendar as month_calendar
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Protocol

import prompts
from handlers.engine import Problem

MAX_CHARS = 8_000  # longer text is read up to here: a goal is a paragraph, not a plan
EVIDENCE_CHARS = 140
TIP_DIR = "goals/critique"
ELEMENTS = ("S", "M", "A", "R", "T")


class CalendarLike(Protocol):
    """What the reader uses of scheduling.calendar.SchoolCalendar (kept structural so handlers stay light)."""

    years: tuple[tuple[date, date], ...]

    def previous_school_day(self, day: date, include: bool = False) -> date: ...

    def add_school_days(self, day: date, count: int) -> date: ...


# -- vocabulary ------------------------------------------------------------------------------------------


def _wordset(text: str) -> frozenset[str]:
    """A word list written as running text, so it stays readable and easy for a district to edit."""
    return frozenset(text.split())


# General English and school words only; nothing here is tuned to particular drafts.

STOP = _wordset(
    """a an the and or but nor of to in on at by for with from as into onto than then that this these those
    their them they it its is are was were be been being will would can could shall should may might must do
    does did done have has had having not no so such each every all any some more most less least very also
    just only about after before during through over under up down out off per who whom whose which what
    when where why how there here our ours my mine your his her hers we i me us you he she him own both
    other another same if because while until within between among across toward towards around upon via
    like much many few lot lots several etc able want wants would like i'll i'd we'll we'd they'll it's let
    one two three four five six seven eight nine ten eleven twelve first second third fourth fifth sixth"""
)
GENERIC = _wordset(
    """better best good great well more higher high stronger strong effective effectively successful success
    succeed various different new many things thing stuff way ways strategies strategy practices practice
    methods method techniques technique activities activity approaches approach resources tools tool skills
    skill knowledge learning learn achievement performance outcomes outcome results result growth grow
    progress improvement improve improved improving level levels goal goals needs need work effort hard
    harder really overall general areas area everything something anything support supports help data
    information engaged engagement confident confidence motivated motivation happy happier kind respectful
    responsible prepared ready independent comfortable positive relationships relationship community culture
    climate environment place room time year years day days week weeks month months life feel feeling
    feelings interest attitude attitudes behavior behaviour behaviors expectations standards current related
    extra lots things able ability abilities capacity quality overall important meaningful rigorous relevant
    engaging best-practice research-based evidence-based proven high-quality appropriate necessary needed
    additional increased improved stronger deeper understanding growth-mindset mindset pass passes love enjoyment enjoy
    passion appreciation joy professionally personally grade grade-level on-grade-level subjects subject
    unit units pipeline everyone everybody"""
)
SUBJECT_AREAS = _wordset(
    """math maths mathematics reading writing literacy ela english science sciences history social studies
    numeracy language arts art music health pe spanish french"""
)  # broad for "what exactly", yet a result in them is still a result
PRACTICE_BROAD = _wordset(
    """academics academic instruction instructional teaching curriculum content lessons lesson technology
    education wellness wellbeing well-being social-emotional socio-emotional emotional mental morale
    collaboration communication leadership management achievement readiness college-and-career"""
)  # broad areas of practice: "improve my teaching" names no result
BROAD = (
    SUBJECT_AREAS
    | PRACTICE_BROAD
    | {"school", "schools", "class", "classes", "classroom", "classrooms", "scores", "score", "grades", "test", "tests"}
)
FEELINGS = {
    "supported",
    "valued",
    "safe",
    "welcome",
    "welcomed",
    "respected",
    "included",
    "connected",
    "belonging",
    "heard",
}
ATTAINMENT = {"gradelevel", "benchmark", "proficient", "proficiency", "mastery", "expectations", "standard"}
ROLE_NOUNS = {
    "readers",
    "reader",
    "writers",
    "writer",
    "mathematicians",
    "scientists",
    "musicians",
    "athletes",
    "artists",
    "speakers",
    "thinkers",
    "problem-solvers",
}
SETTINGS = _wordset(
    """school schools class classes classroom classrooms room rooms program programs building buildings
    district everyone everybody things"""
)  # where a change happens, not what changes
MEASURE_NOUNS = _wordset(
    """test tests exam exams assessment assessments screener screeners screening screenings probe probes
    diagnostic diagnostics inventory inventories benchmark benchmarks quiz quizzes survey surveys rubric
    rubrics checklist checklists portfolio portfolios log logs record records report reports data score
    scores rate rates percentage percent share number count counts average averages results measure measures
    criterion criteria task tasks sample samples walkthrough walkthroughs observation observations rating
    ratings evaluation evaluations tally grades gpa lexile lexiles accuracy wpm wcpm"""
)
INSTRUMENTS = _wordset(
    """dibels acadience mcas parcc sbac smarter staar fast map nwea i-ready iready star fastbridge aimsweb
    aimswebplus easycbm istation amira lexile f&p fountas pinnell dra access wida elpac telpas pacer
    fitnessgram sat psat naep regents cap kra gold class panorama celf gfta basc swis"""
)
ACRONYM_NOT_MEASURE = _wordset(
    """i ela ell ells el els ml mls mll mlls iep ieps sip plc plcs pd pl sel mtss rti k us usa ap ib stem esl
    sped ilt slp slps aba ot pt ms mr mrs dr ok q t s mp boy moy eoy sy gpa k-2 k-5 k-8 k-12 avid dok bps
    bsu frq frqs cer ii iii iv"""
)
STUDENT_HEADS = _wordset(
    """student students learner learners scholar scholars pupil pupils child children kid kids reader readers
    writer writers mathematicians scientists grader graders kindergartner kindergartners kindergartener
    kindergarteners preschooler preschoolers freshman freshmen sophomore sophomores junior juniors senior
    seniors advisee advisees mentee mentees athlete athletes musicians artists class classes section
    sections caseload cohort cohorts boys girls youth ell ells el els ml mls mll mlls learners candidate
    candidates interns residents players band choir chorus orchestra group groups they them he she newcomer
    newcomers bilinguals teens adolescents toddlers participants trainees fellows"""
)
FAMILY_HEADS = {"family", "families", "parent", "parents", "caregiver", "caregivers", "guardians"}
EDUCATOR_HEADS = _wordset(
    """i me myself teacher teachers educator educators staff faculty colleague colleagues counselor counselors
    counsellor counsellors nurse nurses coach coaches librarian librarians specialist specialists
    interventionist interventionists paraprofessional paraprofessionals para paras aide aides psychologist
    psychologists worker workers slp slps therapist therapists pathologist pathologists principal principals
    administrator administrators admin leader leaders mentor mentors practitioner practitioners supervisor
    supervisors facilitator facilitators liaison liaisons clinician clinicians co-teacher co-teachers tutor
    tutors evaluator evaluators superintendent"""
)
TEAM_HEADS = _wordset(
    """we us team teams plc plcs department departments committee ilt grade-level staff faculty cabinet"""
)
PARTNER_HEADS = _wordset(
    """partnership partnerships partner partners district districts university universities college colleges
    program programs provider providers school schools epp"""
)
OUTCOME_VERBS = _wordset(
    """increase increases raise raises improve improves decrease decreases reduce reduces lower lowers grow
    grows boost boosts close closes narrow narrows cut cuts double triple halve rise rises drop drops fall
    falls decline declines climb climbs gain gains reach reaches achieve achieves attain attains exceed
    exceeds maintain maintains sustain sustains eliminate eliminates minimize maximize ensure ensures see
    have has get gets become becomes be is are show shows demonstrate demonstrates strengthen strengthens
    enhance enhances advance advances accelerate elevate lift move moves shift expand deepen promote foster
    build builds grow"""
)
VAGUE_VERBS = _wordset(
    """work try focus strive aim support help continue reflect think talk consider explore learn do keep look
    attempt address emphasize prioritize encourage motivate inspire care value believe hope want be become
    get"""
)
LIGHT_VERBS = _wordset(
    """use utilize implement apply incorporate integrate employ provide give offer deliver adopt add include
    introduce bring put set do make"""
)
ACTIVITY_VERBS = _wordset(
    """attend complete participate take read watch join enroll register finish submit go visit observe hold
    host organize organise schedule create develop design write plan present share conduct lead earn obtain
    pursue sign collect gather compile draft offer send post"""
)
COMMON_VERBS = (
    _wordset(
        """teach model run confer co-plan co-teach co-train meet call contact hold lead train coach observe
        assess screen chart graph record text send plan analyze analyse review reteach pull give provide
        use open close track monitor check score share post display schedule invite host visit email
        write read create design develop build embed differentiate scaffold group regroup pair partner
        assign launch pilot introduce practice rehearse celebrate recognize reward survey interview
        collect compile present deliver facilitate mentor tutor align revise adapt modify map unpack
        calibrate norm audit log keep maintain follow establish set implement integrate incorporate
        apply adopt add include offer place select recruit hire fund secure publish communicate inform
        notify remind conference probe drill rotate ask pose explain discuss debrief film video-record
        code compare survey study examine identify refer connect counsel support help engage involve
        welcome greet train jointly select"""
    )
    | OUTCOME_VERBS
    | VAGUE_VERBS
    | LIGHT_VERBS
    | ACTIVITY_VERBS
)
NOUN_OR_VERB = _wordset(
    """use set close support record map log chart practice model group score survey pilot conference probe
    drill text post display norm code fund place partner pair review check call plan design study coach
    mentor present share visit train lead host"""
)  # a coordinated one of these is a verb only when an object follows it ("and chart each score")
GENERIC_VERBS = (
    VAGUE_VERBS
    | OUTCOME_VERBS
    | {"have", "has", "had", "make", "makes", "made", "do", "does", "go", "goes", "see", "sees", "feel", "feels"}
)
OBJECT_FOLLOWS = re.compile(
    r"[\w-]+\s+(?!(?:of|for|and|or|but|is|are|was|were|will|so|that|which|who|as|than|to|at|in|on|by)\b)[\w'-]+",
    re.I,
)  # "and model think-alouds": a word that could be a noun is a verb when an object follows it
RECEIVE_VERBS = {"receive", "receives"}
PEOPLE_VERBS = {
    "enroll",
    "place",
    "hire",
    "recruit",
    "retain",
    "graduate",
    "certify",
    "license",
    "employ",
    "prepare",
    "admit",
}
PARTICIPATE = re.compile(
    r"(?:participate|participates|engage|engages|take\s+part|takes\s+part|join|joins|enroll|enrolls)\s+in\b|"
    r"(?:take|takes|sit)\s+(?:the\s+|a\s+|an\s+)?(?:[\w-]+\s+){0,2}?(?:test|exam|assessment|MCAS|SAT|PSAT|ACT|course|"
    r"class)\b",
    re.I,
)
ATTEND_OBJECTS = re.compile(
    r"\b(?:tutoring|sessions?|groups?|intervention|lessons?|workshops?|programs?|clubs?|office hours|labs?|"
    r"camps?|classes|conferences?|meetings?|nights?)\b",
    re.I,
)
EDUCATOR_PASSIVE = _wordset(
    """provided taught given offered held conducted implemented used delivered scheduled introduced modeled
    modelled trained coached supervised assigned placed paired matched invited contacted screened assessed
    monitored reviewed tracked tutored pulled grouped shared sent created developed designed piloted
    launched embedded integrated incorporated co-taught selected supported"""
)
ADVERBS = _wordset(
    """also then jointly together collaboratively consistently regularly explicitly intentionally
    systematically personally actively further both all each now still first closely carefully directly
    purposefully strategically daily weekly monthly routinely deliberately frequently immediately continue
    continues begin begins start starts not"""
)
VAGUE_RESULT = re.compile(
    r"^(?:do|get|be|become|feel|grow|look)\s+(?:a\s+(?:bit|little)\s+)?(?:much\s+)?"
    r"(?:better|more|less|stronger|happier|smarter|successful|kind(?:er)?|confident|engaged|motivated|"
    r"prepared|ready|improved|good|great|well)\b|^(?:improve|grow|succeed|progress|develop|do well)\s*$|"
    r"^(?:make|show|see)\s+(?:\w+\s+)?(?:progress|growth|gains|improvement)\b|^(?:\w+)\s+(?:more|better)\s*$|"
    r"^feel\s+(?:\w+\s*){1,2}$|^develop\s+(?:a\s+)?(?:love|passion|appreciation|interest)\b",
    re.I,
)
NEGATIVE_NOUNS = re.compile(
    r"\b(?:absen\w*|tard\w*|referrals?|suspensions?|incidents?|fail\w*|dismissals?|errors?|missing|drop-?outs?|"
    r"dropping out|detentions?|time from|days to|wait\w*|visits?|misconduct|disruptions?|late|chronic\w*|"
    r"below|behind|at risk|at-risk|retention|restraints?|fights?|bullying|d's|f's|ds and fs)\b",
    re.I,
)
DOWN_VERBS = re.compile(
    r"\b(?:reduc\w*|decreas\w*|(?:to|will|and)\s+lower|lowers|lowered|lowering|cut(?:s|ting)?|drops?|dropping|"
    r"(?:will|to|should)\s+fall|falls|falling|"
    r"declin\w*|shrink\w*|minimi[sz]\w*|eliminat\w*|halv\w*|go(?:es)?\s+down|down\s+from)\b",
    re.I,
)
UP_VERBS = re.compile(
    r"\b(?:increas\w*|rais\w*|improv\w*|grow\w*|rise|rises|rising|boost\w*|gain\w*|doubl\w*|climb\w*|reach\w*|"
    r"go(?:es)?\s+up|up\s+from|move\s+up|advance\w*)\b",
    re.I,
)
DOWN_TAIL = re.compile(r"^\s*%?\s*(?:or\s+(?:fewer|less|lower|below)|and\s+below)\b|^\s*%?\s*(?:or\s+)?fewer\b", re.I)
UP_TAIL = re.compile(r"^\s*%?\s*(?:or\s+(?:more|higher|above|better|greater)|and\s+above|\+)", re.I)

NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
    "hundred": 100,
    "dozen": 12,
}
FRACTION_WORDS = {
    "half": 50.0,
    "a third": 33.3,
    "one third": 33.3,
    "two thirds": 66.7,
    "two-thirds": 66.7,
    "a quarter": 25.0,
    "one quarter": 25.0,
    "three quarters": 75.0,
    "three-quarters": 75.0,
}
TIME_UNITS = r"(?:school\s+)?(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)"
_NUMWORD = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))

# -- findings --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """A stretch of the (normalised) text and what it was read as."""

    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Who(Found):
    kind: str  # students | families | educator | team | partnership


@dataclass(frozen=True)
class Predication(Found):
    """A subject with its verb and the rest of the clause: the unit actions and results are read from."""

    subject: str
    kind: str  # who did it: educator | team | partnership | students | families | thing | implied
    verb: str
    role: str  # action | activity | received | vague | outcome | result
    content: int  # specific words, for "what exactly will change"
    vague: bool = False  # reads as "do better", "become more confident", "show growth"
    substance: int = 0  # words that name a result at all (subject areas and measures count here)


@dataclass(frozen=True)
class Quantity(Found):
    value: float | None
    unit: str  # percent | points | share | level | count | rate | duration | number
    noun: str = ""
    role: str = "plain"  # baseline | target | change | share | output | plain


@dataclass(frozen=True)
class Change(Found):
    """A baseline and a target on one measure, read from one clause."""

    baseline: Quantity | None
    target: Quantity | None
    delta: Quantity | None
    direction: int  # +1 up is better, -1 down is better


@dataclass(frozen=True)
class Measure(Found):
    kind: str  # instrument | rubric | rate | record


@dataclass(frozen=True)
class DateMention(Found):
    value: date | None
    kind: str  # day | month | season | school_year | term | relative | window | year
    role: str = ""  # deadline | checkpoint | start | baseline | window | event
    approximate: bool = False
    cue: str = ""


@dataclass(frozen=True)
class Cadence(Found):
    tracking: bool  # said of a check on progress (weekly probes), not of an action (daily groups)


@dataclass(frozen=True)
class RigourNote:
    kind: str  # met | small | all_from_low | leap
    change: Change
    baseline: str
    target: str
    gain: str


@dataclass(frozen=True)
class Reading:
    text: str
    language: str  # en | other | empty
    who: tuple[Who, ...]
    predications: tuple[Predication, ...]
    quantities: tuple[Quantity, ...]
    changes: tuple[Change, ...]
    measures: tuple[Measure, ...]
    dates: tuple[DateMention, ...]
    cadences: tuple[Cadence, ...]
    rigour: tuple[RigourNote, ...]
    clipped: bool = False

    @property
    def actions(self) -> tuple[Predication, ...]:
        """What the educator or team will do (stated, implied by "through ...", or received by students)."""
        return tuple(p for p in self.predications if p.role in ("action", "activity", "received", "practice"))

    @property
    def vague_actions(self) -> tuple[Predication, ...]:
        return tuple(p for p in self.predications if p.role == "vague")

    @property
    def results(self) -> tuple[Found, ...]:
        """Named results: clauses about what changes, and quantified targets that are not activity counts."""
        found: list[Found] = [
            p for p in self.predications if p.role in ("result", "outcome", "practice") and p.substance
        ]
        found += [q for q in self.quantities if q.role in ("target", "share", "change")]
        found += list(self.changes)
        return tuple(sorted(found, key=lambda f: f.start))

    @property
    def deadline(self) -> DateMention | None:
        deadlines = [d for d in self.dates if d.role == "deadline"]
        return deadlines[-1] if deadlines else None

    @property
    def checkpoints(self) -> tuple[DateMention, ...]:
        return tuple(d for d in self.dates if d.role == "checkpoint")

    @property
    def tracking(self) -> tuple[Cadence, ...]:
        return tuple(c for c in self.cadences if c.tracking)


# -- text ------------------------------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*(?:[-*•◦▪●·>]+|\(?\d{1,2}[.)]|\(?[a-hA-H][.)])\s+")
_SENTENCE_END = re.compile(
    r"(?<!\b[A-Z])(?<!\bDr)(?<!\bMr)(?<!\bMs)(?<!\bMrs)(?<!\bSt)(?<!\bvs)(?<!\be\.g)(?<!\bi\.e)(?<!\betc)"
    r"[.!?]+[\"')\]]*(?=\s+|$)|\n+"
)
_LABEL = re.compile(r"\s*([A-Za-z][A-Za-z0-9 /&()'-]{0,38}?)\s*:\s+")
LABEL_ROLES = {
    "action": re.compile(
        r"^(?:key\s+)?(?:actions?|action steps?|steps|strategies|strategy|how|plan|what i will do|my actions|"
        r"what we will do|means|approach|activities)\b",
        re.I,
    ),
    "checkpoint": re.compile(
        r"^(?:benchmarks?|checkpoints?|progress checks?|milestones?|progress monitoring|mid-?point(?: check)?|"
        r"interim(?: checks?)?|check-?ins?|tracking|monitoring|tracked|evaluation|progress)\b",
        re.I,
    ),
    "deadline": re.compile(r"^(?:when|timeline|deadline|due|by when|completion(?: date)?|end date|date)\b", re.I),
    "baseline": re.compile(r"^(?:baseline|current(?:ly)?|now|starting point|last (?:year|spring|fall|winter))", re.I),
    "target": re.compile(r"^(?:target|goal target|aim)\b", re.I),
    "measure": re.compile(r"^(?:measures?|assessments?|data|evidence|measured by|how measured)\b", re.I),
    "who": re.compile(r"^(?:who|students|for whom|group|population|team)\b", re.I),
}


def normalise(text: str) -> str:
    """One spelling of quotes, dashes and spaces; emoji and control characters dropped; bullets joined."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"\bT?SWBAT\b:?", "students will be able to", text)  # teachers' shorthand
    text = text.translate(
        {
            0x2018: "'",
            0x2019: "'",
            0x201C: '"',
            0x201D: '"',
            0x2013: "-",
            0x2012: "-",
            0x2014: " - ",
            0x2015: " - ",
            0x2212: "-",
            0x2192: " -> ",
            0x00A0: " ",
        }
    )
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if ch == "\n" or ch == "\t":
            kept.append(" " if ch == "\t" else ch)
        elif category[0] == "C" or category == "So" or category == "Sk":
            kept.append(" ")
        else:
            kept.append(ch)
    lines: list[str] = []
    for raw in "".join(kept).split("\n"):
        line = re.sub(r"[ \t]+", " ", raw).strip()
        if not line:
            continue
        bullet = _BULLET.match(line)
        if bullet:
            line = line[bullet.end() :].strip()
        elif lines and (raw[:1].isspace() or line[:1].islower()) and not re.search(r"[.!?:]$", lines[-1]):
            lines[-1] = f"{lines[-1]} {line}"  # a wrapped line continues its bullet or sentence
            continue
        if line:
            lines.append(line)
    return "\n".join(lines)


@dataclass(frozen=True)
class Sentence(Found):
    label: str  # the role of a leading "Label:" (action, checkpoint, ...) or ""
    body_start: int  # where the text after the label begins


def sentences(text: str) -> list[Sentence]:
    """Sentences and bullet lines, each with the role of a leading label such as "Benchmarks:"."""
    found: list[Sentence] = []
    start = 0
    for match in [*_SENTENCE_END.finditer(text), None]:
        end = match.end() if match else len(text)
        if match is not None and match.group(0).startswith(".") and _decimal_or_initial(text, match.start()):
            continue
        chunk = text[start:end]
        stripped = chunk.strip()
        if stripped:
            offset = start + chunk.index(stripped[0])
            label, body = "", offset
            labelled = _LABEL.match(text, offset, end)
            if labelled:
                name = labelled.group(1).strip()
                label = next((role for role, pattern in LABEL_ROLES.items() if pattern.match(name)), "other")
                if label == "other" and _looks_like_date_label(name):
                    label = "dated"
                body = labelled.end()
            found.append(Sentence(text[offset:end].rstrip(), offset, end, label, body))
        start = end
    return found


def _decimal_or_initial(text: str, at: int) -> bool:
    return bool(re.match(r"\d", text[at + 1 : at + 2]) or re.search(r"\b(?:[A-Z]|U\.S|No)$", text[max(0, at - 4) : at]))


def _looks_like_date_label(name: str) -> bool:
    return bool(re.search(rf"\b(?:{_MONTH}|fall|winter|spring|summer|q[1-4]|mid-?year)\b", name, re.I))


WORD = re.compile(r"[A-Za-z][A-Za-z'&-]*[A-Za-z]|[A-Za-z]")


def words(text: str) -> list[str]:
    return [w.lower().strip("'") for w in WORD.findall(text)]


def clip(text: str, limit: int = EVIDENCE_CHARS) -> str:
    text = " ".join(text.split()).strip(" ,;:-")
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _within(spans: Iterable[Found | tuple[int, int]], start: int, end: int) -> bool:
    for span in spans:
        first, last = (span.start, span.end) if isinstance(span, Found) else span
        if first <= start and end <= last:
            return True
    return False


def _overlaps(spans: Iterable[Found | tuple[int, int]], start: int, end: int) -> bool:
    for span in spans:
        first, last = (span.start, span.end) if isinstance(span, Found) else span
        if start < last and first < end:
            return True
    return False


# -- dates -----------------------------------------------------------------------------------------------

MONTHS = {name.lower(): number for number, name in enumerate(month_calendar.month_name) if name}
MONTHS.update({name.lower(): number for number, name in enumerate(month_calendar.month_abbr) if name})
MONTHS["sept"] = 9
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
SEASONS = {"fall": (10, 31), "autumn": (10, 31), "winter": (1, 31), "spring": (4, 30), "summer": (7, 31)}

_D_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_D_NUMERIC = re.compile(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/%])(?!\s*(?:of|students?)\b)")
_D_MONTH_DAY = re.compile(
    rf"\b({_MONTH})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?!%|\s*(?:-|to)\s*\d)(?:,?\s+(\d{{4}}))?", re.I
)
_D_DAY_MONTH = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH})\b\.?(?:,?\s+(\d{{4}}))?", re.I)
_D_MONTH_YEAR = re.compile(rf"\b({_MONTH})\.?,?\s+(?:of\s+)?(\d{{4}})\b", re.I)
_D_PART_OF_MONTH = re.compile(
    rf"\b(?:the\s+)?(end|middle|start|beginning|first week|last week)\s+of\s+({_MONTH})\b\.?(?:,?\s+(\d{{4}}))?|"
    rf"\b(early|mid|late)[\s-]+({_MONTH})\b\.?(?:,?\s+(\d{{4}}))?",
    re.I,
)
_D_MONTH = re.compile(rf"\b({_MONTH})\b\.?", re.I)
_D_SEASON = re.compile(
    r"\b(?:(early|late|mid)[\s-]+)?(fall|autumn|winter|spring|summer)\b(?:\s+(?:of\s+)?(\d{4}))?", re.I
)
_D_SCHOOL_YEAR = re.compile(
    r"\b(?:(?:the|this|next|current)\s+)?(?:SY\s*)?(20\d{2})\s*[-/]\s*(?:20)?(\d{2})(?:\s+(?:school|"
    r"academic)\s+year)?\b|"
    r"\b(?:school|academic)\s+year\s+(20\d{2})\s*[-/]\s*(?:20)?(\d{2})\b",
    re.I,
)
_D_RELATIVE_YEAR = re.compile(r"\b(this|the|current|next|coming)\s+(school|academic)\s+year\b", re.I)
_D_END_OF_YEAR = re.compile(r"\b(?:the\s+)?(end|close)\s+of\s+(?:the|this)\s+year\b|\byear'?s\s+end\b", re.I)
_D_CAL_YEAR = re.compile(r"\b(?:(?:the\s+)?end\s+of|by|before|during|in)\s+(20\d{2})\b(?![-/]\s*\d)", re.I)
_D_TERM = re.compile(
    r"\b(?:the\s+)?(?P<where>end|close|middle|start|beginning)\s+of\s+(?:the\s+)?(?P<nth>first|second|third|fourth|"
    r"final|last|"
    r"1st|2nd|3rd|4th|next|this|current)?\s*(?P<unit>quarter|term|trimester|semester|marking period|grading period)\b"
    r"(?:\s+(?P<num>[1-4]|one|two|three|four)\b)?|"
    r"\b(?:(?:the\s+)?(?P<where2>end|close|middle|start|beginning)\s+of\s+)?(?P<short>Q|T|S|MP)(?P<num2>[1-4])\b|"
    r"\b(?P<mid>mid-?year|middle of the (?:school )?year|midpoint of the (?:school )?year|"
    r"half-?way through the (?:school )?year)\b|"
    r"\b(?:during|in|over|throughout)\s+(?:the\s+)?(?P<nth3>first|second|third|fourth|final|1st|2nd|3rd|4th|this|"
    r"next)\s+"
    r"(?P<unit3>quarter|term|trimester|semester|marking period|grading period)\b",
    re.I,
)
_D_WINDOW = re.compile(
    r"\b(BOY|MOY|EOY|beginning-of-(?:the-)?year|middle-of-(?:the-)?year|end-of-(?:the-)?year|mid-year|midyear)\b"
    r"(?=\s+\w*\s*(?:benchmarks?|assessments?|screenings?|tests?|exams?|probes?|windows?|data|testing|diagnostics?))",
    re.I,
)
_D_UNIT_END = re.compile(
    r"\b(?:the\s+)?end\s+of\s+(?:the\s+|this\s+|my\s+|our\s+)?(unit|course|cycle|program|intervention|iep (?:year|"
    r"period)|"
    r"coaching cycle|placement|practicum)\b",
    re.I,
)
_D_RELATIVE = re.compile(
    rf"\b(within|in|over|for|after)\s+(?:the\s+)?(?:next|first|coming|following)?\s*(\d{{1,3}}|{_NUMWORD}|a)\s+"
    r"(school\s+)?(days?|weeks?|months?)\b"
    r"(?!\s+(?:of|after|from|before)\b(?!\s+(?:school|the\s+school\s+year|the\s+year|instruction|classes|class|"
    r"the\s+semester)\b))",
    re.I,
)
_DATE_CUE_WORDS = (
    r"by|in|until|till|through|thru|before|after|during|since|from|to|starting|beginning|each|every|next|last|this|of|"
    r"early|mid|late|the|on|around|end|across|throughout"
)
_MAY_OK_BEFORE = re.compile(rf"\b(?:{_DATE_CUE_WORDS})\s+$", re.I)

_DEADLINE_CUE = re.compile(
    r"(?:\b(?:by|before|no later than|not later than|until|till|through|thru|due|deadline|complete[ds]? by|ends?|"
    r"ending|"
    r"within|in time for|prior to|toward|towards|over|during|throughout|for|to)\s+(?:the\s+)?(?:very\s+)?"
    r"(?:end\s+of\s+(?:the\s+)?)?)$",
    re.I,
)
_STRONG_DEADLINE_CUE = re.compile(
    r"\b(?:by|before|no later than|not later than|until|till|due|deadline|complete[ds]? by|within|prior to)\s+"
    r"(?:the\s+)?(?:very\s+)?(?:end\s+of\s+(?:the\s+)?)?$",
    re.I,
)
_START_CUE = re.compile(
    r"\b(?:starting|start(?:s|ing)?|begin(?:s|ning)?|as of|commencing|effective|launch(?:ing)?|kick(?:ing)? off|"
    r"from)\s+"
    r"(?:in\s+|on\s+|with\s+|the\s+week\s+of\s+)?(?:the\s+)?(?:(?:week|start|beginning)\s+of\s+(?:the\s+)?)?$",
    re.I,
)
_PAST_CUE = re.compile(
    r"\b(?:last|previous|prior|this past|since|earlier this|in the)\s+$|\blast\s+(?:school\s+)?year'?s?\s+$", re.I
)
_CHECK_CUE = re.compile(
    r"\b(?:benchmarks?|checkpoints?|check[- ]?ins?|check(?:s|ing|ed)?|progress (?:checks?|monitoring|reports?)|"
    r"mid-?point|"
    r"interim|milestones?|review(?:s|ing|ed)?|re-?assess\w*|re-?screen\w*|re-?test\w*|probes?|probing|monitor\w*|"
    r"compar\w+|audit\w*|scor(?:e|es|ed|ing)|look(?:ing)? at|track(?:s|ing|ed)?|administer\w*|giv(?:e|ing)|assess\w*|"
    r"screen\w*|measur\w*|test(?:s|ing)?|data (?:reviews?|meetings?|digs?|chats?)|report(?:s|ing)?|graph\w*|chart\w*|"
    r"analy[sz]\w*)\b",
    re.I,
)
_PAST_VERBS = re.compile(r"\b(?:scored|were|was|had|did|showed|met|earned|reached|passed|averaged|read|wrote)\b", re.I)


def _month_end(year: int, month: int, cal: CalendarLike | None) -> date:
    """The last day of a month, or its last school day when a district calendar is known."""
    last = date(year, month, month_calendar.monthrange(year, month)[1])
    for first_day, last_day in _school_years(cal):
        if last_day.year == year and last_day.month == month and first_day <= last_day <= last:
            return last_day  # "by June 2027" in a year that ends June 16 means June 16
    if cal is not None:
        try:
            candidate = cal.previous_school_day(last, include=True)
        except Exception:  # a calendar object that cannot answer must not break the reading
            return last
        if candidate.year == year and candidate.month == month:
            return candidate
    return last


month_end = _month_end  # the coach's date steps read "June 2027" the same way


def _next_year_for(month: int, day: int, today: date, past: bool) -> int:
    """With no year given: the next time that month comes round, or the last time for a past reference."""
    year = today.year
    probe = date(year, month, max(1, min(day, month_calendar.monthrange(year, month)[1])))
    if past:
        return year if probe <= today else year - 1
    return year if probe >= today else year + 1


def _school_years(cal: CalendarLike | None) -> list[tuple[date, date]]:
    try:
        return sorted(cal.years) if cal is not None and cal.years else []
    except Exception:
        return []


def school_year(
    today: date, cal: CalendarLike | None, start_year: int | None = None, offset: int = 0
) -> tuple[date, date, bool]:
    """First and last day of a school year (the current one, or the one starting in `start_year`).

    The district calendar answers exactly; without it a school year runs September 1 to June 30, and the
    third value says the answer is approximate.
    """
    years = _school_years(cal)
    if start_year is None:
        current = next((y for y in years if y[0] <= today <= y[1]), None) or next(
            (y for y in years if y[0] > today), None
        )
        if current is not None and offset == 0:
            return current[0], current[1], False
        start_year = (today.year if today.month >= 7 else today.year - 1) if current is None else current[0].year
        start_year += offset
    match = next((y for y in years if y[0].year == start_year), None)
    if match is not None:
        return match[0], match[1], False
    last = date(start_year + 1, 6, 30)
    return date(start_year, 9, 1), _month_end(start_year + 1, 6, cal) if cal is not None else last, True


def _term_end(first: date, last: date, part: int, parts: int) -> date:
    span = (last - first).days
    return first + timedelta(days=round(span * part / parts))


_ORDINALS = {
    "first": 1,
    "1st": 1,
    "one": 1,
    "second": 2,
    "2nd": 2,
    "two": 2,
    "third": 3,
    "3rd": 3,
    "three": 3,
    "fourth": 4,
    "4th": 4,
    "four": 4,
    "final": 0,
    "last": 0,
}
_TERM_PARTS = {
    "quarter": 4,
    "term": 4,
    "marking period": 4,
    "grading period": 4,
    "trimester": 3,
    "semester": 2,
    "q": 4,
    "t": 3,
    "s": 2,
    "mp": 4,
}


def _safe_date(year: int, month: int, day: int) -> date | None:
    if 1 <= year <= 9999 and 1 <= month <= 12 and 1 <= day <= month_calendar.monthrange(year, month)[1]:
        return date(year, month, day)
    return None


def _year4(text: str | None) -> int | None:
    if not text:
        return None
    year = int(text)
    return year + 2000 if year < 100 else year


def find_dates(text: str, today: date, cal: CalendarLike | None = None) -> list[DateMention]:
    """Every date-like phrase, with a value where one can be worked out, before roles are given."""
    found: list[DateMention] = []

    def add(match: re.Match[str], value: date | None, kind: str, approximate: bool = False) -> None:
        found.append(DateMention(match.group(0), match.start(), match.end(), value, kind, approximate=approximate))

    for m in _D_ISO.finditer(text):
        add(m, _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3))), "day")
    for m in _D_NUMERIC.finditer(text):
        month, day = int(m.group(1)), int(m.group(2))
        if not (1 <= month <= 12 and 1 <= day <= 31):
            continue
        if m.group(3) is None and not re.search(
            r"\b(?:by|on|before|until|due|after|from|to)\s+$", text[max(0, m.start() - 10) : m.start()], re.I
        ):
            continue  # "3/4" alone is more likely a fraction than a date
        year = _year4(m.group(3)) or _next_year_for(month, min(day, 28), today, past=False)
        add(m, _safe_date(year, month, day), "day")
    for m in _D_PART_OF_MONTH.finditer(text):
        part, name, year_text = (
            (m.group(1), m.group(2), m.group(3)) if m.group(2) else (m.group(4), m.group(5), m.group(6))
        )
        month = MONTHS[name.lower()]
        year = _year4(year_text) or _next_year_for(month, 1, today, past=False)
        last = month_calendar.monthrange(year, month)[1]
        day = {
            "end": last,
            "last week": last,
            "middle": 15,
            "mid": 15,
            "start": 1,
            "beginning": 1,
            "first week": 7,
            "early": 7,
            "late": last,
        }.get(part.lower(), last)
        value = _month_end(year, month, cal) if day == last else date(year, month, day)
        add(m, value, "day" if day != last else "month", approximate=day != last)
    for m in _D_MONTH_DAY.finditer(text):
        month, day = MONTHS[m.group(1).lower()], int(m.group(2))
        if m.group(1).lower() == "may" and not m.group(3) and not m.group(1)[0].isupper():
            continue
        year = _year4(m.group(3)) or _next_year_for(month, min(day, 28), today, past=False)
        add(m, _safe_date(year, month, day), "day")
    for m in _D_DAY_MONTH.finditer(text):
        day, month = int(m.group(1)), MONTHS[m.group(2).lower()]
        if not 1 <= day <= 31 or (m.group(2).lower() == "may" and not m.group(3)):
            continue
        year = _year4(m.group(3)) or _next_year_for(month, min(day, 28), today, past=False)
        add(m, _safe_date(year, month, day), "day")
    for m in _D_MONTH_YEAR.finditer(text):
        month, year = MONTHS[m.group(1).lower()], int(m.group(2))
        add(m, _month_end(year, month, cal), "month")
    for m in _D_SCHOOL_YEAR.finditer(text):
        first_year = int(m.group(1) or m.group(3))
        second = int(m.group(2) or m.group(4))
        if second % 100 != (first_year + 1) % 100:
            continue  # "2026-30" is a span of years, not a school year
        _, last, approx = school_year(today, cal, start_year=first_year)
        add(m, last, "school_year", approx)
    for m in _D_RELATIVE_YEAR.finditer(text):
        offset = 1 if m.group(1).lower() in ("next", "coming") else 0
        _, last, approx = school_year(today, cal, offset=offset)
        add(m, last, "school_year", approx)
    for m in _D_END_OF_YEAR.finditer(text):
        _, last, approx = school_year(today, cal)
        add(m, last, "school_year", approx)
    for m in _D_CAL_YEAR.finditer(text):
        year = int(m.group(1))
        found.append(DateMention(m.group(1), m.start(1), m.end(1), date(year, 12, 31), "year", approximate=True))
    for m in _D_TERM.finditer(text):
        first, last, _ = school_year(today, cal)
        if m.group("mid"):
            value = _term_end(first, last, 1, 2)
        else:
            where = (m.group("where") or m.group("where2") or "end").lower()
            unit = (m.group("unit") or m.group("unit3") or m.group("short") or "").lower()
            parts = _TERM_PARTS.get(unit, 4)
            number = (m.group("num") or m.group("num2") or m.group("nth") or m.group("nth3") or "").lower()
            ordinal = int(number) if number.isdigit() else _ORDINALS.get(number)
            if ordinal is None:  # "the end of this semester": the one today is in
                elapsed = (today - first).days / max(1, (last - first).days)
                ordinal = min(parts, max(1, int(elapsed * parts) + 1)) + (1 if number == "next" else 0)
            ordinal = parts if ordinal == 0 else min(ordinal, parts)
            shift = 0 if where in ("end", "close") else (-0.5 if where == "middle" else -1)
            value = _term_end(first, last, ordinal + shift, parts)
        add(m, value, "term", True)
    for m in _D_WINDOW.finditer(text):
        first, last, _ = school_year(today, cal)
        key = m.group(1).lower()
        value = (
            first + timedelta(days=30)
            if key.startswith(("boy", "beginning"))
            else (_term_end(first, last, 1, 2) if key.startswith(("moy", "middle", "mid")) else last)
        )
        add(m, value, "window", True)
    for m in _D_UNIT_END.finditer(text):
        add(m, None, "term", True)
    for m in _D_RELATIVE.finditer(text):
        count_text = m.group(2).lower()
        count = 1 if count_text == "a" else NUMBER_WORDS.get(count_text) or int(count_text)
        unit = m.group(4).lower()
        if unit.startswith("day") and count < 20 and not re.search(r"\b(?:next|first|coming)\b", m.group(0), re.I):
            continue  # "feedback within two days" is a criterion, not a completion date
        if unit.startswith("week") and count < 2:
            continue
        if m.group(3) and cal is not None and unit.startswith("day"):
            try:
                value = cal.add_school_days(today, count)
            except Exception:
                value = today + timedelta(days=count * 7 // 5)
        else:
            value = today + timedelta(days=count * {"d": 1, "w": 7, "m": 30}[unit[0]])
        add(m, value, "relative", True)
    for m in _D_SEASON.finditer(text):
        before = text[max(0, m.start() - 20) : m.start()]
        after = text[m.end() : m.end() + 40]
        measure_next = re.match(
            r"\s+(?:\w+\s+){0,3}?(?:benchmarks?|screenings?|testing|tests?|assessments?|windows?|data|probes?|"
            r"diagnostics?|"
            r"administrations?|composite|exams?|surveys?|inventory|MCAS|DIBELS|i-?Ready|MAP|STAR|common|unit|staff|"
            r"portfolio)",
            after,
            re.I,
        )
        if not (m.group(3) or _MAY_OK_BEFORE.search(before) or measure_next or after.startswith(":")):
            continue
        month, day = SEASONS[m.group(2).lower()]
        past = bool(re.search(r"\b(?:last|this past|in the|this)\s+$", before, re.I)) and not m.group(3)
        if re.search(r"\bthis\s+$", before, re.I) and not m.group(3):
            year = today.year if month >= 7 or today.month <= 6 else today.year + 1
            if month >= 9 and today.month < 7:
                year = today.year - 1
        else:
            year = int(m.group(3)) if m.group(3) else _next_year_for(month, day, today, past=past)
        kind = "window" if measure_next and not m.group(3) else "season"
        add(m, date(year, month, day), kind, True)
    for m in _D_MONTH.finditer(text):
        name = m.group(1)
        before = text[max(0, m.start() - 14) : m.start()]
        after = text[m.end() : m.end() + 3]
        cued = bool(_MAY_OK_BEFORE.search(before)) or bool(re.match(r"\s*[:\-(]", after))
        if (
            name.lower() in ("may", "mar", "jan", "jun", "jul", "aug", "oct", "nov", "dec", "sep", "feb", "apr")
            or name.lower() == "march"
        ):
            if not cued:
                continue
        elif not (name[0].isupper() or cued):
            continue
        month = MONTHS[name.lower()]
        past = bool(re.search(r"\b(?:last|since|this past)\s+$", before, re.I))
        year = _next_year_for(month, 28, today, past=past)
        end = m.end() - (1 if m.group(0).endswith(".") and len(name) > 4 else 0)  # "in February." ends a sentence
        found.append(DateMention(text[m.start() : end], m.start(), end, _month_end(year, month, cal), "month"))
    return [_with_end_of(text, d) for d in _drop_overlaps(found)]


def _with_end_of(text: str, mention: DateMention) -> DateMention:
    """Show "the end of the 2026-27 school year", not just "the 2026-27 school year", as the evidence."""
    lead = re.search(
        r"(?:the\s+)?(?:end|close)\s+of\s+(?:the\s+)?$", text[max(0, mention.start - 20) : mention.start], re.I
    )
    if lead and mention.kind in ("school_year", "month", "season", "year"):
        start = max(0, mention.start - 20) + lead.start()
        return replace(mention, text=text[start : mention.end], start=start)
    return mention


def _drop_overlaps(found: list[DateMention]) -> list[DateMention]:
    """Keep the longest reading of each stretch ("the end of May 2027", not also "May 2027" and "May")."""
    kept: list[DateMention] = []
    for mention in sorted(found, key=lambda d: (-(d.end - d.start), d.start)):
        if not _overlaps(kept, mention.start, mention.end):
            kept.append(mention)
    return sorted(kept, key=lambda d: d.start)


def give_roles(
    text: str, mentions: list[DateMention], sents: list[Sentence], today: date, baselines: list[Found]
) -> list[DateMention]:
    """Start, checkpoint, deadline or baseline for each date, from its cue words; then one deadline at most.

    Among dates cued as deadlines the latest is the deadline and earlier ones are interim checkpoints. With
    no cue at all a single date is taken as the deadline; several uncued dates are left undecided, so
    "three dates and no deadline" is reported as such rather than guessed.
    """
    roled: list[DateMention] = []
    previous: DateMention | None = None
    for mention in mentions:
        sentence = next((s for s in sents if s.start <= mention.start < s.end), None)
        floor = (
            sentence.body_start
            if sentence and mention.start >= sentence.body_start
            else (sentence.start if sentence else 0)
        )
        before = text[max(floor, mention.start - 80) : mention.start]
        near = before[-40:]
        after = text[mention.end : mention.end + 60]
        role, cue = "", ""
        joined = previous is not None and re.fullmatch(
            r"[\s,;/&()+-]*(?:and|or|,\s*and|&)?[\s,;/&()+-]*", text[previous.end : mention.start]
        )
        tail = _clause_tail(before)
        if mention.kind == "window" and not _STRONG_DEADLINE_CUE.search(near):
            role, cue = "window", "window"
        elif _PAST_CUE.search(near):
            role, cue = "baseline", "past"
        elif _START_CUE.search(near):
            role, cue = "start", _START_CUE.search(near).group(0).strip()
        elif (
            previous is not None
            and previous.role == "start"
            and re.fullmatch(
                r"\s*(?:to|through|thru|until|till|-|and\s+ending(?:\s+in)?)\s*(?:the\s+)?(?:end\s+of\s+)?",
                text[previous.end : mention.start],
                re.I,
            )
        ):
            role, cue = "deadline", "to"
        elif _STRONG_DEADLINE_CUE.search(near):
            role, cue = "deadline", _STRONG_DEADLINE_CUE.search(near).group(0).strip()
        elif sentence is not None and sentence.label in ("checkpoint", "deadline", "baseline"):
            role, cue = sentence.label, "label"
        elif joined and previous is not None and previous.role and previous.cue != "past date":
            role, cue = previous.role, "list"
        elif _CHECK_CUE.search(tail) and not _STUDENT_CLAUSE.search(tail):
            role, cue = "checkpoint", _CHECK_CUE.search(tail).group(0)
        elif mention.kind in ("school_year", "term") and _DEADLINE_CUE.search(near):
            role, cue = "deadline", _DEADLINE_CUE.search(near).group(0).strip()
        elif re.match(r"\s*[:\-]\s*\S", after) and sentence is not None and mention.start <= sentence.body_start + 2:
            role, cue = "checkpoint", "dated line"
        elif _CHECK_CUE.search(_clause_head(after)):
            role, cue = "checkpoint", "after"
        elif mention.value is not None and mention.value < today and mention.kind != "relative":
            role, cue = "baseline", "past date"
        if role in ("", "checkpoint") and _near_baseline(mention, baselines, text):
            role, cue = "baseline", "baseline"
        mention = replace(mention, role=role, cue=cue)
        roled.append(mention)
        previous = mention
    return _settle_deadline(roled, today)


_STUDENT_CLAUSE = re.compile(
    r"(?:\d+\s*%|percent|\b(?:students?|graders?|learners|children|kids|seniors|juniors|freshmen|class|they))\b[^.;]{0,80}?"
    r"\b(?:will|'ll)\b",
    re.I,
)  # "70% of my students will score ... in May": the date of the result, not of a check


def _clause_tail(before: str) -> str:
    """The end of the text before a date, back to the last clause break: the words that govern it."""
    parts = re.split(r"[;.!?\n]|\b(?:and then|so that|because)\b", before)
    return parts[-1] if parts else before


def _clause_head(after: str) -> str:
    parts = re.split(r"[;,.!?\n]|\b(?:and|so that|because)\b", after)
    return parts[0] if parts else after


def _near_baseline(mention: DateMention, baselines: list[Found], text: str) -> bool:
    """ "44% in September", "September: 44%": the date of the starting point, in the same sentence."""
    for b in baselines:
        if 0 <= mention.start - b.end <= 30 and not re.search(r"[.;\n]", text[b.end : mention.start]):
            return True
        if 0 <= b.start - mention.end <= 12 and not re.search(r"[.;\n]", text[mention.end : b.start]):
            return True
    return False


def _settle_deadline(mentions: list[DateMention], today: date) -> list[DateMention]:
    deadlines = [m for m in mentions if m.role == "deadline"]
    if not deadlines:
        uncued = [m for m in mentions if not m.role and (m.value is None or m.value >= today)]
        later_checks = [m for m in mentions if m.role == "checkpoint"]
        if len(uncued) == 1 and not any(
            c.value and uncued[0].value and c.value > uncued[0].value for c in later_checks
        ):
            only = uncued[0]
            return [replace(m, role="deadline", cue="only date") if m is only else _event(m) for m in mentions]
        return [_event(m) for m in mentions]
    dated = [m for m in deadlines if m.value is not None]
    final = max(dated, key=lambda m: (m.value, m.start)) if dated else deadlines[-1]
    settled = []
    for m in mentions:
        if m is final:
            settled.append(m)
        elif m.role == "deadline":
            settled.append(replace(m, role="checkpoint", cue="interim"))
        else:
            settled.append(_event(m))
    return settled


def _event(mention: DateMention) -> DateMention:
    return mention if mention.role else replace(mention, role="event")


# -- cadences, grade bands and other numbers that are not measures ---------------------------------------

_EVERY_UNIT = (
    r"(?:school\s+)?(?:day|week|month|quarter|term|trimester|semester|marking period|grading period|unit|cycle|"
    r"morning|afternoon|class|lesson|session|rehearsal|meeting|visit|observation|report|assessment|test|probe|"
    r"monday|tuesday|wednesday|thursday|friday|week's|plc meeting|data meeting|progress report|conference)s?"
)
CADENCE = re.compile(
    r"\b(?:bi-?weekly|bi-?monthly|daily|weekly|fortnightly|monthly|quarterly|annually|yearly|nightly|twice-weekly|"
    r"twice-monthly|semi-?annually)\b|"
    rf"\b(?:every|each)\s+(?:other\s+)?(?:\d+|{_NUMWORD}|few)\s+(?:school\s+)?(?:days|weeks|months|lessons|sessions)\b|"
    rf"\b(?:(?:at|after|before|by)\s+(?:the\s+(?:end|start|close|beginning)\s+of\s+)?)?(?:every|each)\s+(?:other\s+)?"
    rf"(?:[\w-]+\s+){{0,2}}?{_EVERY_UNIT}\b|"
    rf"\b(?:once|twice|three times|four times|five times|(?:\d+|{_NUMWORD})\s*(?:x|times))\s*(?:a|per|each|/|an)\s*"
    r"(?:day|week|month|quarter|term|year|cycle|unit|semester)\b|"
    r"\b(?:on|most)\s+(?:mondays|tuesdays|wednesdays|thursdays|fridays)\b|"
    rf"\b(?:\d+|{_NUMWORD})\s+(?:school\s+)?(?:days?|mornings?|afternoons?)\s+(?:a|per|each)\s+week\b|"
    r"\b(?:a|per)\s+(?:day|week|month|quarter)\b",
    re.I,
)
_TRACKING_WORDS = re.compile(
    r"\b(?:monitor\w*|progress|check\w*|review\w*|track\w*|chart\w*|graph\w*|probe\w*|assess\w*|screen\w*|measur\w*|"
    r"data|logs?|logged|report\w*|scor\w*|compar\w*|audit\w*|count\w*|benchmark\w*|analy[sz]\w*|look at|"
    r"test\w*|quiz\w*|exit tickets?|running records?|tally|record\w*)\b",
    re.I,
)
GRADE_BAND = re.compile(
    rf"\b(?:grades?|gr\.?)\s*(?:K|\d{{1,2}}|{_NUMWORD})(?:\s*(?:-|to|through|and|&|/)\s*(?:\d{{1,2}}|{_NUMWORD}))?\b|"
    r"\b(?:K|PK|pre-?K)\s*-\s*\d{1,2}\b|"
    r"\b\d{1,2}(?:st|nd|rd|th)(?:[\s-]+(?:and|&|-|to)[\s-]+\d{1,2}(?:st|nd|rd|th))?(?:[\s-]+grade(?:rs?)?\b|"
    r"[\s-]+graders?\b)?|"
    r"\b(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth)[\s-]+grade(?:rs?)?\b|"
    r"\b\d{1,2}\s*-\s*\d{1,2}(?=\s*(?:grade|graders|classrooms?|students|teachers|team|band|span|buildings?|"
    r"schools?)\b)",
    re.I,
)
LABEL_NUMBER = re.compile(
    r"\b(?:tier|period|unit|lesson|chapter|module|room|goal|priority|standard|section|cohort|step|part|question|item|"
    r"block|page|title|algebra|geometry|english|ela|math|spanish|french|latin|biology|chemistry|physics|calculus|"
    r"objective|strategy|indicator|level(?=\s+\d+\s+(?:english|el|ell|ml|mll|multilingual|students|learners|"
    r"readers)))\s*"
    r"(?:\d{1,3}|[IVX]{1,4})\b|"
    r"\b[A-Z]{1,4}\.\d{1,2}(?:\.[A-Za-z0-9]+)*\b|\b\d{1,2}\.[A-Z]{1,4}\.[A-Za-z0-9]+\b|"
    r"\b\d{1,2}:\d{2}\s*(?:am|pm)?\b|\b\d{1,2}\s*(?:am|pm)\b|\b(?:19|20)\d{2}\b|\$\s?\d",
    re.I,
)
DESCRIPTOR = re.compile(
    rf"\b(?:\d+(?:\.\d+)?|{_NUMWORD}|half)-(?!(?:to|of|and|on|in|thirds?|quarters?|fifths?|halves)\b)[A-Za-z]+(?:-[A-Za-z]+)*\b|"
    rf"\b(?:\d+|{_NUMWORD})(?:st|nd|rd|th)?\b(?=\s*-?\s*{TIME_UNITS}\s+(?:a|per|each)\s)|"
    r"\b\d+\s*x\b",
    re.I,
)


def find_cadences(text: str) -> list[Cadence]:
    """How often things happen; a cadence tracks progress when its clause is about checking or data."""
    return [
        Cadence(
            m.group(0), m.start(), m.end(), tracking=bool(_TRACKING_WORDS.search(_around(text, m.start(), m.end())))
        )
        for m in CADENCE.finditer(text)
    ]


def _around(text: str, start: int, end: int) -> str:
    """The clause a phrase sits in (between ; . newline and clause connectors)."""
    left = max(text.rfind(ch, 0, start) for ch in ";.\n")
    right_candidates = [i for i in (text.find(ch, end) for ch in ";.\n") if i != -1]
    right = min(right_candidates) if right_candidates else len(text)
    clause = text[left + 1 : right]
    pieces = re.split(r",\s*(?:and\s+)?|\band\b", clause)
    offset = left + 1
    for piece in pieces:
        where = text.find(piece, offset)
        if where <= start < where + len(piece) + 1 or (where <= start and end <= where + len(piece)):
            return piece
        offset = max(offset, where)
    return clause


# -- quantities ------------------------------------------------------------------------------------------

_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+"
QTY = re.compile(
    rf"(?<![\w./$-])(?P<num>{_NUM})(?:\s*-\s*(?P<num2>{_NUM})(?=\s*%))?"
    r"(?P<unit>\s?%|\s*(?:percent(?:age)?|per\s?cent)(?:\s+points?)?\b|\s*pp\b|\s*percentage points?\b|\s*points?\b|"
    r"L\b)?"
    r"(?![\w/])",
    re.I,
)
WORD_QTY = re.compile(
    rf"\b(?P<word>two[- ]thirds|three[- ]quarters|a third|one third|a quarter|one quarter|"
    rf"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-(?:one|two|three|four|five|six|seven|eight|"
    rf"nine)|{_NUMWORD}|half)\b"
    r"(?P<unit>\s+(?:percent|per\s?cent)(?:\s+points?)?\b|\s+points?\b)?",
    re.I,
)
SHARE = re.compile(
    rf"\b(?P<n>\d+|{_NUMWORD})\s+(?:of|out of)\s+(?:the\s+|my\s+|our\s+|their\s+|these\s+|every\s+)?(?P<m>\d+|"
    rf"{_NUMWORD})\b",
    re.I,
)
_GROUP_NOUNS = (
    r"(?:students?|learners?|children|kids|graders?|kindergartners?|seniors?|juniors?|freshmen|sophomores?|scholars?|"
    r"readers?|writers?|candidates?|families|teachers|members|participants|players|advisees)"
)
ALL_SHARE = re.compile(
    r"\b(?:all|every|each)\s+(?:single\s+)?(?:one\s+of\s+)?(?:of\s+)?(?:my|our|the|these|their)?\s*(?:\d+\s+)?"
    rf"(?:[\w-]+\s+){{0,3}}?{_GROUP_NOUNS}\b",
    re.I,
)
FLOATING_ALL = re.compile(  # "my 40 seniors will all complete the FAFSA": the quantifier after the verb
    rf"\b(?P<who>(?:\d+(?:st|nd|rd|th)\s+)?{_GROUP_NOUNS})\s+(?:will|would|should|can|are\s+going\s+to)\s+"
    r"(?:all|each|every\s+one)\b",
    re.I,
)
UNIT_NOUN = re.compile(
    r"\s*(?:(?:or|and)\s+(?:more|higher|above|better|fewer|less|lower|below)\s+)?"
    r"(?P<noun>(?:[A-Za-z][\w'&-]*\s+){0,2}?(?:words?\s+(?:correct\s+)?per\s+minute|wpm|wcpm|per\s+\w+|"
    r"[A-Za-z][\w'&-]*))",
    re.I,
)
_WHO_NOUN = re.compile(
    r"^(?:[\w-]+\s+){0,3}?(?:"
    + "|".join(
        sorted(
            STUDENT_HEADS | FAMILY_HEADS | EDUCATOR_HEADS - {"i", "me", "they", "them", "he", "she"},
            key=len,
            reverse=True,
        )
    )
    + r")\b",
    re.I,
)
_DETERMINER_BEFORE = re.compile(
    r"\b(?:my|our|the|his|her|their|these|those|of|with|among|for|all|each|every)\s+$", re.I
)
_CRITERION_BEFORE = re.compile(
    r"\b(?:with|using|citing|including|containing|of|in|about|on|per)\s+(?:at\s+least\s+)?$", re.I
)
_BASELINE_BEFORE = re.compile(
    r"(?:\b(?:currently(?:\s+(?:average|averages|score|scores|sits?|stands?|reads?|at|is|are))?|"
    r"current(?:ly)?(?:\s+[\w-]+){0,3}\s+(?:is|are|of|at|:)|now(?:\s+at)?|at present|presently|right now|"
    r"baseline(?:\s+data)?(?:\s+(?:is|of|shows?|showed|was|were|score|rate))?\s*[:=]?|up from|down from|"
    r"compared (?:to|with)|"
    r"versus|vs\.?|only|from(?:\s+a\s+baseline\s+of)?(?:\s+an?\s+average\s+of)?|last\s+(?:year|spring|fall|winter|"
    r"school year)"
    r"(?:'s)?(?:\s+[\w-]+){0,3}?\s*[:,]?|(?:fall|autumn|winter|spring|september|sept?|october|oct|aug|august|boy|"
    r"pre-?test|diagnostic|"
    r"screening)(?:\s+[\w-]+){0,2}?\s*[:=])\s*(?:an?\s+)?(?:average\s+of\s+)?(?:about\s+|around\s+|roughly\s+)?)$",
    re.I,
)
_BASELINE_AFTER = re.compile(
    r"^\s*(?:%\s*)?(?:(?:of\s+)?(?:(?!will\b)[\w'-]+\s+){0,7}?)?(?:last\s+(?:year|spring|fall|winter|school year|"
    r"june|may)|in\s+the\s+fall|"
    r"this\s+(?:fall|year)|at\s+baseline|at\s+the\s+(?:start|beginning)|currently|now\b|already|did\b|in\s+september|"
    r"in\s+october|on\s+the\s+(?:fall|september|october|pre)|in\s+fall|in\s+(?:my|the)\s+[\w-]+\s+(?:september|"
    r"october|fall))"
    r"(?!\s*,?\s*20\d\d)",
    re.I,
)
_TARGET_BEFORE = re.compile(
    r"(?:\b(?:to|target(?:\s+(?:of|is))?\s*[:=]?|goal(?:\s+(?:of|is))?\s*[:=]?|reach(?:ing)?|achieve|attain|hit|"
    r"at least|a minimum of|minimum of|no (?:more|fewer|less) than|fewer than|less than|under|below|above|over|"
    r"more than|"
    r"will (?:be|score|earn|read|reach|average|have)|score(?:s|d)?|earn(?:ing)?|"
    r"scoring)\s*(?:an?\s+)?(?:average\s+of\s+)?"
    r"(?:at\s+least\s+)?(?:a\s+)?)$",
    re.I,
)
_TARGET_AFTER = re.compile(
    r"^\s*(?:%\s*)?(?:or\s+(?:more|higher|better|above|greater|fewer|less|lower|below)|and\s+above|\+|of\s+(?:the\s+|"
    r"my\s+|our\s+|"
    r"all\s+)?[\w' -]{0,40}?\b(?:will|at|meeting|scoring|reading|on|who)\b|(?:will|at\s+or\s+above|at\s+benchmark|"
    r"at\s+grade|on\s+grade|proficien))",
    re.I,
)
_CHANGE_BEFORE = re.compile(
    r"(?:\bby\s+(?:at\s+least\s+|about\s+|roughly\s+|approximately\s+|an\s+average\s+of\s+|a\s+total\s+of\s+)?|"
    r"\b(?:a\s+)?(?:gain|growth|increase|rise|drop|decrease|reduction)\s+of\s+)$",
    re.I,
)
_TO_BETWEEN = re.compile(
    r"^(?:\s*%)?(?:[^.;\n]{0,45}?)\s*(?:\bto\b|->|\bup to\b|\bdown to\b|\btoward\b|"
    r"\btowards\b)\s*(?:a\s+)?(?:target\s+of\s+)?"
    r"(?:an?\s+)?(?:average\s+of\s+)?(?:at\s+least\s+)?$",
    re.I,
)


def _number(text: str) -> float | None:
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def _word_value(word: str) -> float | None:
    lowered = word.lower().replace("  ", " ")
    if lowered in FRACTION_WORDS:
        return FRACTION_WORDS[lowered]
    if "-" in lowered and lowered.split("-")[0] in NUMBER_WORDS and lowered.split("-")[1] in NUMBER_WORDS:
        tens, ones = lowered.split("-")
        return float(NUMBER_WORDS[tens] + NUMBER_WORDS[ones])
    return float(NUMBER_WORDS[lowered]) if lowered in NUMBER_WORDS else None


def find_quantities(text: str, masks: list[Found | tuple[int, int]], cadences: list[Cadence]) -> list[Quantity]:
    """Numbers that could measure something, with what they count; roles are given afterwards."""
    found: list[Quantity] = []
    taken: list[tuple[int, int]] = []
    for m in SHARE.finditer(text):
        if _overlaps(masks, m.start(), m.end()):
            continue
        n = _number(m.group("n")) if m.group("n")[0].isdigit() else _word_value(m.group("n"))
        total = _number(m.group("m")) if m.group("m")[0].isdigit() else _word_value(m.group("m"))
        if n is None or not total or n > total:
            continue
        tail = UNIT_NOUN.match(text, m.end())
        noun = tail.group("noun") if tail else ""
        if re.match(r"\s*(?:on|point|-point)\b", text[m.end() : m.end() + 8], re.I) or (total <= 6 and not noun):
            found.append(Quantity(m.group(0), m.start(), m.end(), n, "level", noun))  # "3 out of 4" on a scale
        else:
            found.append(Quantity(m.group(0), m.start(), m.end(), round(100 * n / total, 1), "share", noun))
        taken.append((m.start(), m.end()))
    for m in ALL_SHARE.finditer(text):
        if not _overlaps(taken, m.start(), m.end()):
            found.append(Quantity(m.group(0), m.start(), m.end(), 100.0, "share", "all"))
            taken.append((m.start(), m.start() + len(m.group(0).split()[0])))
    for m in FLOATING_ALL.finditer(text):
        if not _overlaps(taken, m.start(), m.end()):
            shown = f"all {m.group('who')}"  # as a tip names it: "all seniors from a start of 45% ..."
            found.append(Quantity(shown, m.start(), m.end(), 100.0, "share", "all"))
            taken.append((m.start(), m.end()))
    for m in QTY.finditer(text):
        if _overlaps(masks, m.start(), m.end()) or _overlaps(taken, m.start(), m.end()):
            continue
        value = _number(m.group("num"))
        if m.group("num2"):
            second = _number(m.group("num2"))
            value = (value + second) / 2 if value is not None and second is not None else value
        unit_text = (m.group("unit") or "").strip().lower()
        found.append(_quantity(text, m.start(), m.end(), value, unit_text))
    for m in WORD_QTY.finditer(text):
        if _overlaps(masks, m.start(), m.end()) or _overlaps(taken, m.start(), m.end()):
            continue
        if m.group("word").lower() in ("one", "two") and re.match(
            r"\s+(?:of|on|another|to|or\s+(?:more|two|three))\b", text[m.end() : m.end() + 12], re.I
        ):
            continue
        value = _word_value(m.group("word"))
        unit_text = (m.group("unit") or "").strip().lower()
        if m.group("word").lower() in FRACTION_WORDS or m.group("word").lower() == "half":
            found.append(Quantity(m.group(0), m.start(), m.end(), value, "percent", "of"))
            continue
        found.append(_quantity(text, m.start(), m.end(), value, unit_text))
    kept = []
    for q in found:
        after = text[q.end : q.end + 40]
        before = text[max(0, q.start - 25) : q.start]
        if q.unit == "duration" or (
            re.match(rf"\s*-?\s*{TIME_UNITS}\b", after, re.I) and q.unit not in ("percent", "share")
        ):
            q = replace(q, unit="duration")
        if q.unit in ("count", "number", "duration") and _dosage(text, q, cadences):
            continue
        if q.unit == "count" and _WHO_NOUN.match(q.noun or "") and _DETERMINER_BEFORE.search(before):
            continue  # "my 22 second graders": the size of the group, not a target
        if (
            q.unit in ("count", "number")
            and _CRITERION_BEFORE.search(before)
            and (q.value or 0) <= 5
            and not _WHO_NOUN.match(q.noun or "")
        ):
            continue  # "support it with two reasons": a success criterion inside the result
        kept.append(q)
    return sorted(kept, key=lambda q: q.start)


def _quantity(text: str, start: int, end: int, value: float | None, unit_text: str) -> Quantity:
    before = text[max(0, start - 30) : start]
    tail = UNIT_NOUN.match(text, end)
    noun = tail.group("noun").lower() if tail else ""
    if (
        unit_text in ("%", "percent", "percentage", "per cent", "percent points", "percentage points", "pp")
        or "percent" in unit_text
    ):
        unit = "points" if "point" in unit_text or unit_text == "pp" else "percent"
    elif unit_text.startswith("point") or re.match(r"(?:[A-Za-z]+\s+)?points?\b", noun):
        unit = "points"
    elif (
        unit_text == "l"
        or re.search(r"\blexile\b", before, re.I)
        or (
            re.search(
                r"\b(?:level|dok|score of|a|an|scores?|scoring|rated|rating)\s+(?:of\s+)?(?:at\s+least\s+)?(?:a\s+)?$",
                before,
                re.I,
            )
            and (value or 0) <= 6
        )
        or (re.match(r"\s*(?:or|and|-|to)\s+\d\b", text[end : end + 8]) and (value or 0) <= 6)
        or (
            re.search(r"\b\d(?:\.\d)?\s+(?:or|and|to|-)\s*$", before)
            and (value or 0) <= 6
            and re.search(r"\b(?:level|score|scor\w*|rubric|rated)\b", text[max(0, start - 40) : end + 40], re.I)
        )
    ):
        unit = "level"
    elif re.match(r"(?:words?\s+(?:correct\s+)?per\s+minute|wpm|wcpm|per\s+)", noun):
        unit = "rate"
    elif re.match(TIME_UNITS, noun):
        unit = "duration"
    elif value is not None and value != int(value):
        unit = "number"
    elif noun and noun not in STOP and not re.match(r"(?:or|and|to|on|in|at|from|by|of|out|the)\b", noun):
        unit = "count"
    else:
        unit = "number"
    return Quantity(text[start:end], start, end, value, unit, noun)


def _dosage(text: str, q: Quantity, cadences: list[Cadence]) -> bool:
    """How much or how often an action happens ("two 30-minute sessions a week") is not a measure."""
    after = text[q.end : q.end + 45]
    if re.match(r"\s*(?:[\w-]+\s+){0,3}?(?:times|x)\b", after, re.I):
        return True
    if any(q.end <= c.start <= q.end + 40 and not re.search(r"[,;.]", text[q.end : c.start]) for c in cadences):
        return not re.search(r"\b(?:from|to)\s*$", text[max(0, q.start - 8) : q.start], re.I)
    if q.unit == "duration":
        return not re.search(
            r"(?:\bfrom|\bto|\bof|\baverage|\bstamina|\bwithin|\bunder|\bbelow|\bthan|\breach|\bat least|\bup to)\s*$",
            text[max(0, q.start - 20) : q.start],
            re.I,
        ) and not re.match(r"\s*(?:to|->)\s*\d", after)
    return False


def give_quantity_roles(
    text: str, quantities: list[Quantity], sents: list[Sentence]
) -> tuple[list[Quantity], list[Change]]:
    """Baseline, target or change for each quantity, then baseline → target pairs within one clause."""
    roled: list[Quantity] = []
    for q in quantities:
        sentence = next((s for s in sents if s.start <= q.start < s.end), None)
        floor = (
            sentence.body_start if sentence and q.start >= sentence.body_start else (sentence.start if sentence else 0)
        )
        before = text[max(floor, q.start - 60) : q.start]
        after = text[q.end : q.end + 60]
        role = "plain"
        if (
            _BASELINE_BEFORE.search(before)
            or _BASELINE_AFTER.match(after)
            or (sentence is not None and sentence.label == "baseline")
        ):
            role = "baseline"
        elif _CHANGE_BEFORE.search(before) and q.unit in ("percent", "points", "level", "count", "number", "rate"):
            role = "change"
        elif q.unit == "share" and q.noun == "all":
            role = (
                "share"
                if re.match(r"[^,.;]{0,60}?(?:\bwill\b|'ll\b|\bcan\b)", after)
                or _TARGET_BEFORE.search(before)
                or FLOATING_ALL.fullmatch(text[q.start : q.end])
                else "plain"
            )
        elif (
            q.unit == "share"
            or _TARGET_BEFORE.search(before)
            or _TARGET_AFTER.match(after)
            or (sentence is not None and sentence.label == "target")
        ):
            role = "target" if q.unit != "share" else "share"
        elif q.unit in ("percent", "rate", "level", "points"):
            role = "target"
        roled.append(replace(q, role=role))
    for index, q in enumerate(roled):
        if q.unit == "level" and q.role in ("baseline", "target", "plain"):
            left = max(text.rfind(ch, 0, q.start) for ch in ".;\n")
            right = min([i for i in (text.find(ch, q.end) for ch in ".;\n") if i != -1] or [len(text)])
            if any(o.unit in ("percent", "share") and left < o.start < right for o in roled if o is not q):
                roled[index] = replace(q, role="plain")  # "70% will score Level 3": Level 3 says what counts
    changes: list[Change] = []
    used: set[int] = set()
    for i, q in enumerate(roled):
        if i in used:
            continue
        before = text[max(0, q.start - 40) : q.start]
        if re.search(
            r"\bfrom\s+(?:a\s+baseline\s+of\s+)?(?:an?\s+)?(?:average\s+(?:of\s+)?)?(?:about\s+|roughly\s+)?$",
            before,
            re.I,
        ):
            for j in range(i + 1, len(roled)):
                other = roled[j]
                between = text[q.end : other.start]
                if len(between) > 60 or re.search(r"[.;\n]", between):
                    break
                if _TO_BETWEEN.match(between) and _compatible(q, other):
                    changes.append(_change(text, q, other, roled))
                    used.update((i, j))
                    break
        elif i + 1 < len(roled) and q.unit in ("percent", "level", "number", "rate", "count", "share"):
            other = roled[i + 1]
            between = text[q.end : other.start]
            if re.fullmatch(r"\s*(?:->|to)\s*", between) and q.unit == other.unit and q.unit != "count":
                changes.append(_change(text, q, other, roled))
                used.update((i, i + 1))
    for i, q in enumerate(roled):
        if i in used or q.role != "baseline":
            continue
        partner = _partner(text, roled, i, used, sents)
        if partner is not None:
            j = roled.index(partner)
            changes.append(_change(text, q, partner, roled))
            used.update((i, j))
    for i, q in enumerate(roled):
        if i in used or q.role != "change":
            continue
        sentence = _sentence_of(sents, q.start)
        base = next(
            (
                b
                for k, b in enumerate(roled)
                if k not in used and b.role == "baseline" and sentence and sentence.start <= b.start < sentence.end
            ),
            None,
        )
        direction = _direction(text, sentence, q, q)
        changes.append(Change(q.text, q.start, q.end, base, None, q, direction))
        used.add(i)
    final = []
    for q in roled:
        pair = next((c for c in changes if c.baseline is q or c.target is q), None)
        if pair is not None:
            q = replace(q, role="baseline" if pair.baseline is q else "target")
        final.append(q)
    changes = [_rebind(c, final) for c in changes]
    return final, sorted(changes, key=lambda c: c.start)


def _rebind(change: Change, quantities: list[Quantity]) -> Change:
    def same(q: Quantity | None) -> Quantity | None:
        return next((x for x in quantities if q is not None and x.start == q.start and x.end == q.end), q)

    return replace(change, baseline=same(change.baseline), target=same(change.target), delta=same(change.delta))


def _sentence_of(sents: list[Sentence], at: int) -> Sentence | None:
    return next((s for s in sents if s.start <= at < s.end), None)


def _compatible(a: Quantity, b: Quantity) -> bool:
    pct = {"percent", "share"}
    if a.unit in pct or b.unit in pct:
        return (a.unit in pct and b.unit in pct) or b.unit == "number" or a.unit == "number"
    return True


def _partner(text: str, roled: list[Quantity], i: int, used: set[int], sents: list[Sentence]) -> Quantity | None:
    """The target a stated baseline belongs with: the nearest compatible target in the same sentence or goal."""
    base = roled[i]
    sentence = _sentence_of(sents, base.start)
    candidates = [
        (k, q)
        for k, q in enumerate(roled)
        if k != i
        and k not in used
        and q.role in ("target", "share", "plain")
        and _compatible(base, q)
        and not (q.noun == "all" and q.role == "plain")
        and (q.unit == base.unit or {q.unit, base.unit} <= {"percent", "share"} or "number" in (q.unit, base.unit))
    ]
    exact = [(k, q) for k, q in candidates if q.unit == base.unit]
    family = [(k, q) for k, q in candidates if {q.unit, base.unit} <= {"percent", "share"}]
    candidates = exact or family or candidates
    same_sentence = [(k, q) for k, q in candidates if sentence and sentence.start <= q.start < sentence.end]
    pool = same_sentence or [
        (k, q) for k, q in candidates if q.role in ("target", "share") and abs(q.start - base.start) < 400
    ]
    if not pool:
        return None
    return min(pool, key=lambda kq: abs(kq[1].start - base.start))[1]


def _change(text: str, base: Quantity, target: Quantity, roled: list[Quantity]) -> Change:
    start, end = min(base.start, target.start), max(base.end, target.end)
    sentence_start = max(text.rfind(ch, 0, start) for ch in ".;\n") + 1
    fragment = text[start:end]
    if base.start < target.start and re.search(
        r"\bfrom\s+(?:a\s+baseline\s+of\s+)?(?:an?\s+)?(?:average\s+(?:of\s+)?)?$",
        text[max(0, start - 30) : start],
        re.I,
    ):
        lead = re.search(
            r"\bfrom\s+(?:a\s+baseline\s+of\s+)?(?:an?\s+)?(?:average\s+(?:of\s+)?)?$",
            text[max(0, start - 30) : start],
            re.I,
        )
        start = max(0, start - 30) + lead.start()
        fragment = text[start:end]
    if target.start < base.start and base.start - target.end > 30:  # "70% of my 4th graders will ..., up from 38%"
        lead = re.search(
            r"(?:\b(?:up|down)\s+from|\bcompared\s+(?:to|with)|\bfrom|\(|\bcurrently|\bnow|\b(?=\w))[^,;.(]{0,14}$",
            text[target.end : base.start],
        )
        lead_start = target.end + lead.start() if lead else base.start
        return Change(
            f"{target.text} … {text[lead_start : base.end].strip(' ,(')}",
            start,
            end,
            base,
            target,
            None,
            _direction(text, None, base, target, max(text.rfind(ch, 0, start) for ch in ".;\n") + 1),
        )
    tail = re.match(r"\s*(?:%|or\s+(?:fewer|less|more|higher|lower|above|better))", text[end : end + 14], re.I)
    if tail:
        end += tail.end()
        fragment = text[start:end]
    if re.search(r"[.;\n]", text[start:end]):  # baseline and target stated in different sentences
        fragment = f"{base.text} … {target.text}" if base.start < target.start else f"{target.text} … {base.text}"
        sentence_start = max(text.rfind(ch, 0, target.start) for ch in ".;\n") + 1
        direction = _direction(text, None, target, target, sentence_start)
    else:
        direction = _direction(text, None, base, target, sentence_start)
    return Change(fragment, start, end, base, target, None, direction)


def _direction(text: str, sentence: Sentence | None, first: Quantity, last: Quantity, floor: int | None = None) -> int:
    """Whether the goal wants the number up or down: its verb, then "or fewer", then what it counts (absences)."""
    start, end = min(first.start, last.start), max(first.end, last.end)
    lo = floor if floor is not None else (sentence.start if sentence else max(0, start - 120))
    before = text[max(lo, start - 160) : start]
    downs = list(DOWN_VERBS.finditer(before))
    ups = list(UP_VERBS.finditer(before))
    if downs or ups:
        nearest_down = downs[-1].start() if downs else -1
        nearest_up = ups[-1].start() if ups else -1
        return -1 if nearest_down > nearest_up else 1
    tail = text[end : end + 20]
    if DOWN_TAIL.match(tail):
        return -1
    if UP_TAIL.match(tail):
        return 1
    inside = text[lo : min(len(text), end + 30)]
    if DOWN_VERBS.search(inside):
        return -1
    if UP_VERBS.search(inside):
        return 1
    counted = " ".join(
        [text[max(lo, start - 70) : start], text[first.end : first.end + 40], text[last.end : last.end + 40]]
    )
    if NEGATIVE_NOUNS.search(counted):
        return -1
    return 1


# -- measures --------------------------------------------------------------------------------------------

_MEASURE_PHRASE = re.compile(
    r"\b(?:as\s+)?(?:measured|evidenced|shown|assessed|counted|tracked|documented|scored)\s+(?:by|on|in|with|through|"
    r"using)\s+"
    r"(?P<what>[^.;\n]{3,120}?)(?=\s*(?:[.;\n]|,\s*(?:through|by|with|and\s+(?:I|we))\b|\s+(?:through|because|"
    r"so that|by\s+\w+ing)\b|$))",
    re.I,
)
_MODIFIER_WORD = (
    r"(?!(?:the|a|an|of|on|in|at|by|to|for|with|and|or|will|would|can|read|give|giving|score|scores|scored|scoring|"
    r"reach|"
    r"than|from|up|as|is|are|be|my|our|their|his|her|this|that|these|those|each|every|all|least|more|higher|above|"
    r"below|"
    r"use|using|review|reviewing|check|checking|compare|track|pass|passing|take|taking|complete|completing|through|"
    r"during|after|before|per|who|which|when|how|what|get|earn|meet|meeting|show|shows|i|we|they)\b)[\w&'-]+\s+"
)
_MEASURE_NOUN_RE = re.compile(
    rf"\b(?:{_MODIFIER_WORD}){{0,4}}?(?:tests?|exams?|assessments?|screeners?|screenings?|probes?|diagnostics?|"
    r"inventor(?:y|ies)|"
    r"(?<!\bat\s)(?<!\babove\s)(?<!\bbelow\s)(?<!\bmeet\s)(?<!\bthe\s)benchmarks?(?!\s+(?:windows?|dates?))|"
    r"quiz(?:zes)?|surveys?|rubrics?|checklists?|portfolios?|running records?|exit tickets?|"
    r"logs?|report cards?|GPA|scale scores?|Lexiles?|proficiency levels?|words (?:correct )?per minute|wpm|wcpm|"
    r"attendance(?: rates?| data)?|referrals?|circulation|checkouts?|completion rates?|pass rates?|graduation rates?|"
    r"walkthroughs?|observation (?:data|tools?)|ratings?|tallies|tally|composite|task|writing samples?|work samples?|"
    r"records?|grades|averages?|accuracy|progress reports?|failure lists?|completion data|placement data|"
    r"hiring data)\b",
    re.I,
)
_ACRONYM = re.compile(
    r"\b(?:[A-Z][A-Za-z]?&[A-Z]|[A-Z]{2,6}s?|i-Ready|iReady|Acadience|Lexile|Fountas\s*(?:&|and)\s*Pinnell|"
    r"aimswebPlus|FastBridge|easyCBM|Istation|Fitnessgram)\b"
)


def find_measures(text: str) -> list[Measure]:
    found: list[Measure] = []
    for m in _MEASURE_PHRASE.finditer(text):
        found.append(Measure(m.group(0), m.start(), m.end(), "instrument"))
    for m in _ACRONYM.finditer(text):
        token = m.group(0)
        key = token.lower().rstrip("s") if token.isupper() else token.lower()
        context = text[m.end() : m.end() + 40]
        named = key in INSTRUMENTS or token.lower() in INSTRUMENTS
        # an unknown acronym is a measure when a measure noun follows it ("the CER rubric")
        acronym = key not in ACRONYM_NOT_MEASURE and token.isupper() and bool(_MEASURE_NOUN_RE.match(context.lstrip()))
        if (named or acronym) and not _overlaps(found, m.start(), m.end()):
            found.append(Measure(token, m.start(), m.end(), "instrument"))
    for m in _MEASURE_NOUN_RE.finditer(text):
        phrase = m.group(0)
        lowered = phrase.lower()
        if _overlaps(found, m.start(), m.end()):
            continue
        if re.search(r"\b(?:rubric|checklist|portfolio|rating)s?\b", lowered):
            kind = "rubric"
        elif re.search(r"\b(?:per minute|wpm|wcpm|rates?|accuracy|average)\b", lowered):
            kind = "rate"
        elif re.search(
            r"\b(?:logs?|records?|referrals?|attendance|circulation|checkouts?|tall(?:y|ies)|grades|report cards?)\b",
            lowered,
        ):
            kind = "record"
        else:
            kind = "instrument"
        found.append(Measure(phrase, m.start(), m.end(), kind))
    return sorted(found, key=lambda f: f.start)


# -- who -------------------------------------------------------------------------------------------------

_HEAD_WORDS = STUDENT_HEADS | FAMILY_HEADS | EDUCATOR_HEADS | TEAM_HEADS | PARTNER_HEADS
_MODIFIER = re.compile(
    r"^(?:my|our|the|all|each|every|these|those|their|of|grade|grades|k|\d+(?:st|nd|rd|th)?(?:-grade)?|[\w]+-grade|"
    r"first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|tier|level|focus|small|"
    r"struggling|new|first-year|novice|english|multilingual|special|general|education|school|counseling|reading|math|"
    r"science|ela|ell|el|ml|mll|[A-Z][\w&-]*)$"
)


SETTING_FOLLOWER = re.compile(
    r"\s+(?:year|years|day|days|week|weeks|discussions?|time|periods?|work|board|community|improvement|wide|building|"
    r"calendar|nurse|counselor|psychologist|leaders?|library|culture|climate|levels?|district|settings?|meetings?|"
    r"size|norms?|routines?|website|trips?|supplies|schedule|project|projects|plan|plans|goal|goals|data|average)\b",
    re.I,
)


def find_who(text: str) -> list[Who]:
    """Who the goal is for or by: students and groups, families, the educator, a team, a partnership."""
    found: list[Who] = []
    for m in WORD.finditer(text):
        token = m.group(0)
        lowered = token.lower()
        if (
            lowered == "i"
            and token != "I"
            and not re.match(r"\s*(?:will|'ll|am|plan|want|would|can|need)\b", text[m.end() : m.end() + 8])
        ):
            continue
        if lowered not in _HEAD_WORDS or lowered in ("they", "them", "he", "she", "me", "us"):
            continue
        if lowered in (
            "school",
            "schools",
            "program",
            "programs",
            "class",
            "classes",
            "group",
            "groups",
            "section",
            "sections",
        ):
            if SETTING_FOLLOWER.match(text, m.end()):
                continue  # "school year", "class discussion": a modifier, not who
            if not re.search(r"\b(?:my|our|the)\s+(?:[\w-]+\s+){0,3}$", text[max(0, m.start() - 40) : m.start()], re.I):
                continue
        if lowered in (
            "district",
            "university",
            "college",
            "school",
            "schools",
            "program",
            "partners",
            "partner",
        ) and not re.search(
            r"\b(?:partnership|and|with|will|district|university|college)\b",
            text[max(0, m.start() - 40) : m.end() + 30],
            re.I,
        ):
            continue
        start = m.start()
        before = list(re.finditer(r"[\w'&-]+", text[max(0, m.start() - 50) : m.start()]))
        for word in reversed(before[-4:]):
            if _MODIFIER.match(word.group(0)) and not re.search(
                r"[,.;:]", text[max(0, m.start() - 50) + word.end() : start]
            ):
                start = max(0, m.start() - 50) + word.start()
            else:
                break
        end = m.end()
        tail = re.match(
            r"\s+(?:with\s+(?:IEPs|disabilities|\w+\s+(?:goals|needs|delays|diagnos\w+))|on\s+my\s+caseload|"
            r"in\s+(?:grades?\s*)?[\w-]+(?:\s+\w+)?)",
            text[end : end + 40],
            re.I,
        )
        if tail:
            end += tail.end()
        kind = _who_kind(lowered)
        found.append(Who(text[start:end], start, end, kind))
    return found


def find_who_in(text: str, predications: list[Predication]) -> list[Who]:
    """Who the goal is about: heads and grade bands, except those only inside the means ("by calling families")."""
    means = [p for p in predications if p.kind == "implied" and p.role in ("action", "vague")]
    found = [w for w in find_who(text) if not _within(means, w.start, w.end)]
    for m in GRADE_BAND.finditer(text):
        if not _overlaps(found, m.start(), m.end()) and not _within(means, m.start(), m.end()):
            found.append(Who(m.group(0), m.start(), m.end(), "students"))
    found = [w for w in found if not any(o is not w and o.start <= w.start and w.end <= o.end for o in found)]
    return sorted(found, key=lambda w: w.start)


def _who_kind(head: str) -> str:
    if head in FAMILY_HEADS:
        return "families"
    if head in STUDENT_HEADS:
        return "students"
    if head in TEAM_HEADS:
        return "team"
    if head in PARTNER_HEADS:
        return "partnership"
    return "educator"


# -- predications: who does what -------------------------------------------------------------------------

_MODAL = re.compile(
    r"(?<=\w)'d like to\b|(?<=\w)'ll\b|\b(?:would like to|will|shall|would|can|must|plan(?:s)? to|intend(?:s)? to|"
    r"aim(?:s)? to|hope(?:s)? to|want(?:s)? to|commit(?:s)? to|(?:am|is|are) going to|need(?:s)? to|expect(?:s)? to|"
    r"strive(?:s)? to|tr(?:y|ies) to|seek(?:s)? to|(?:am|are|is) (?:committed|planning|expected) to)\b",
    re.I,
)
_INFINITIVE_GOAL = re.compile(
    r"\b(?:my|our|the)\s+(?:goal|aim|objective|focus|hope|plan|"
    r"intent(?:ion)?)\s+is\s+(?:for\s+(?P<who>[^,.;]{1,60}?)\s+)?to\s+",
    re.I,
)
_WHO_ALT = "|".join(sorted(STUDENT_HEADS | FAMILY_HEADS | {"teachers", "staff", "colleagues"}, key=len, reverse=True))
_WANT_WHO_TO = re.compile(
    r"\b(?:(?:want(?:s)?|would like|'d like|like|expect(?:s)?|need(?:s)?|hope for|enable(?:s)?|encourage(?:s)?|"
    r"teach(?:es)?|push(?:es)?|challenge(?:s)?|get(?:s)?|for)\s+(?P<who>(?:at\s+least\s+)?(?:\d+%?\s+of\s+)?"
    r"(?:(?:my|our|all|the|each|every|these|their|his|her|more|most)\s+)?(?:[\w'-]+\s+){0,4}?(?:"
    + _WHO_ALT
    + r")|them)"
    r"\s+to\s+|help(?:s|ing)?\s+(?P<helped>(?:(?:my|our|all|the|each|every|these|their)\s+)?(?:[\w'-]+\s+){0,4}?"
    r"(?:" + _WHO_ALT + r")|them)\s+(?:to\s+)?)(?=[a-z])",
    re.I,
)
_SO_THAT = re.compile(
    r"\b(?:so\s+that|so(?=\s+(?:my|our|all|the|each|every|students|they|more|at least|\d))|in\s+order\s+(?:that|for)|"
    r"resulting\s+in|which\s+will\s+(?:result\s+in|lead\s+to|increase|raise|improve|reduce)|leading\s+to)\s+",
    re.I,
)
_PURPOSE = re.compile(
    r"(?:\bin\s+order\s+to|\bto)\s+(?=(?:increase|raise|improve|reduce|decrease|boost|grow|close|lower|cut|help|ensure|"
    r"strengthen|enhance|support|build|narrow|accelerate|promote|make|keep|get)\b)",
    re.I,
)
_MEANS = re.compile(
    r"\b(?:through|via|by\s+means\s+of|by\s+way\s+of|with\s+the\s+help\s+of|thanks\s+to|supported\s+by|"
    r"driven\s+by)\s+(?!(?:the\s+)?(?:end|middle|start|beginning|"
    rf"rest|course|year|school\s+year)\b|(?:{_MONTH})\b|\d|(?:this|the|next)\s+(?:school\s+)?year\b|"
    r"(?:the\s+)?(?:spring|fall|winter|summer)\b|grades?\b|(?:the\s+)?(?:\w+\s+)?(?:grade|semester|quarter|term)\b)|"
    r"\bby\s+(?=(?:\w+ly\s+)?(?!spring\b|morning\b|evening\b|beginning\b|during\b|ending\b|nothing\b|bring\b|"
    r"everything\b|"
    r"something\b|king\b)[a-z][\w-]{1,}ing\b)|"
    r"(?:^|(?<=[,;:(])\s*|\band\s+|\bby\s+)using\s+",
    re.I,
)
_CLAUSE_END = re.compile(
    r"[;.!?\n:]|\s-\s|\bso\s+that\b|\bso(?=\s+(?:my|our|all|the|each|every|students|they|more|at least|\d))|"
    r"\b(?:as\s+)?(?:measured|evidenced|shown|assessed)\s+by\b|\bbecause\b|\bwhich\b|\bthrough\b|\bvia\b|"
    r"\bwhile\b|\bup\s+from\b|\bdown\s+from\b|\bcompared\s+(?:to|with)\b|\bin\s+order\s+to\b|\(|"
    r",\s*(?:and\s+)?(?=(?:I|we|our|my|the|all|each|every|students|they|teachers|at least|"
    r"\d+%?)\b[^,.;]{0,60}?(?:\bwill\b|'ll\b))|"
    r"\band\s+(?=(?:\d+%|at least \d+|all|most|half)\b[^,.;]{0,60}?\bwill\b)|\busing\b|"
    r"\bby\s+(?=(?:\w+ly\s+)?(?!spring\b|morning\b|evening\b|beginning\b)[a-z][\w-]{1,}ing\b)|,\s*using\b|"
    r",\s*as\s+(?=\w)|"
    r"\bto\s+(?=(?:increase|raise|improve|reduce|decrease|boost|grow|close|lower|cut|ensure|strengthen)\b)",
    re.I,
)
_BARE_OUTCOME = re.compile(
    r"\b(?P<subject>(?:their|the|our|my|student|students'|class|average|reading|math|writing|test|attendance)\s+"
    r"(?:[\w'-]+\s+){0,2}?(?:scores?|grades|rates?|attendance|achievement|proficiency|results|levels?|averages?|"
    r"accuracy|fluency|referrals?|absences|numbers?))\s+(?P<verb>go(?:es)?\s+up|go(?:es)?\s+down|rise|rises|increase|"
    r"increases|improve|improves|grow|grows|drop|drops|decline|declines|climb|climbs)\b",
    re.I,
)
_SUBJECT_BREAK = re.compile(
    r"[,;:.!?()\n]|\b(?:that|so|because|which|where|when|while|then|but|if|since|although|though|as|whether|and)\b|"
    r"\b(?:I|we|they)\s+(?:hope|think|believe|know|expect|feel|want|wish|predict|anticipate|am\s+confident|"
    r"are\s+confident)\b",
    re.I,
)
_QUANTITY_SUBJECT = re.compile(
    r"^(?:at\s+least\s+|over\s+|more\s+than\s+|about\s+)?(?:\d+(?:\.\d+)?\s*%|\d+\s+(?:of|out of)\s+\d+|"
    r"the\s+(?:share|number|percent(?:age)?|proportion|rate|average|count|ratio)\b|(?:all|every|each|half|"
    r"most)\s+(?!(?:day|week|month|morning|time|year|quarter|unit|class|lesson|session)s?\b)|"
    rf"(?:{_NUMWORD})\s+(?:of|out of)\b)",
    re.I,
)
_EDU_CONNECTOR = re.compile(
    r"\b(?:as|because|since|while|once|where|and|after|when|whenever|if|until|then|so)\s+", re.I
)


_TIME_WORDS = re.compile(
    r"(?:daily|weekly|monthly|quarterly|yearly|every|each|week|weeks|day|days|times?|minutes?|hours?|year|years|"
    r"months?|today|tomorrow|soon|now|this|next|last)$"
)


def _content(text: str, *, mode: str = "s", skip_first: bool = True) -> int:
    """How many words say something specific, counted three ways.

    "s" asks what exactly will change: broad areas, measures, who and generic verbs do not count.
    "r" asks whether a result is named at all: subject areas and measures count; settings do not.
    "a" asks whether an action is concrete: anything but function, generic and time words counts.
    "o" asks the same of what a light verb acts on ("use technology" is not concrete, "use exit tickets" is).
    """
    count = len(re.findall(r"\b[A-F][+-]?(?:'?s)?\s+(?:or|and)\s+(?:better|higher|above|[A-F][+-]?(?:'?s)?)\b", text))
    if mode == "r":
        text = re.sub(r"\bgrade[\s-]level\b", "gradelevel", text, flags=re.I)
    tokens = words(text)
    if skip_first and tokens:
        tokens = tokens[1:]
    for token in tokens:
        base = token[:-1] if len(token) > 4 and token.endswith("s") else token
        if token in STOP or token in GENERIC or base in GENERIC or _TIME_WORDS.match(token):
            continue
        if token in NUMBER_WORDS or token in MONTHS or token in SEASONS or (len(token) < 3 and not token.isupper()):
            continue
        if mode == "s" and token in FEELINGS:
            continue  # "feel supported" names a result, but not what exactly will change
        if mode == "r" and (token in ROLE_NOUNS or token in ATTAINMENT):
            count += 1  # "become stronger readers" names a result, however loosely
            continue
        if mode != "a" and (token in _HEAD_WORDS or token in GENERIC_VERBS or token in SETTINGS):
            continue
        if mode in ("r", "o") and (token in PRACTICE_BROAD or base in PRACTICE_BROAD):
            continue
        if mode == "s" and (
            token in BROAD or base in BROAD or token in MEASURE_NOUNS or base in MEASURE_NOUNS or token in INSTRUMENTS
        ):
            continue
        count += 1
    return count


PREDICATE_CHARS = 320  # a clause longer than this is cut: it keeps a run-on paste linear in time


def _predicate_end(text: str, start: int, limit: int) -> int:
    limit = min(limit, start + PREDICATE_CHARS)
    end_match = _CLAUSE_END.search(text, start, limit)
    return end_match.start() if end_match else limit


def _subject(text: str, at: int, floor: int) -> tuple[str, int]:
    window_start = max(floor, at - 120)
    window = text[window_start:at]
    breaks = list(_SUBJECT_BREAK.finditer(window))
    if breaks:
        cut = breaks[-1]
        window_start += cut.end()
        window = window[cut.end() :]
    dated = re.match(
        rf"^\s*(?:by|before|in|starting|beginning|within|over|until|from|during)\s+[^,]*?(?:\d{{4}}|{_MONTH}|year|"
        r"weeks|months|window)\s*,?\s*",
        window,
        re.I,
    )
    if dated:
        window_start += dated.end()
        window = window[dated.end() :]
    return window.strip(), window_start + (len(window) - len(window.lstrip()))


def _kind_of_subject(subject: str) -> str:
    if not subject:
        return "implied"
    last = (words(subject) or [""])[-1]
    if last in ("i", "we"):
        return "educator" if last == "i" else "team"
    if _QUANTITY_SUBJECT.match(subject):
        return (
            "thing"
            if not re.search(
                r"\b(?:students?|learners?|graders?|children|kids|seniors|juniors|freshmen|families)\b", subject, re.I
            )
            else "students"
        )
    tokens = words(subject)
    for token in reversed(tokens):
        if token in ("i", "we"):
            return "educator" if token == "i" else "team"
        if token in EDUCATOR_HEADS and token not in ("me",):
            return "educator"
        if token in TEAM_HEADS:
            return "team"
        if token in PARTNER_HEADS and re.search(r"\b(?:partnership|district|university|college|and)\b", subject, re.I):
            return "partnership"
        if token in FAMILY_HEADS:
            return "families"
        if token in STUDENT_HEADS:
            return "students"
    proper = [w for w in subject.split() if w.lower() not in ("the", "of", "and", "&")]
    if proper and all(w[:1].isupper() for w in proper) and len(proper) <= 5 and not re.search(r"\d", subject):
        return "partnership"  # "BSU", "Crestview University": an organisation acting
    if re.search(r"\bI\b", subject):
        return "educator"
    return "thing"


def _verb_after(text: str, at: int, limit: int, dates: list[DateMention]) -> tuple[str, int, int]:
    """The verb a modal governs, skipping adverbs, "be able to", "have" (perfect), commas and dates."""
    position = at
    for _ in range(8):
        while position < limit and text[position] in " ,":
            position += 1
        inside = next((d for d in dates if d.start <= position < d.end), None)
        if inside is not None:
            position = inside.end
            continue
        match = re.match(r"[A-Za-z][\w'-]*", text[position:limit])
        if not match:
            return "", position, position
        token = match.group(0).lower()
        after = text[position + match.end() : position + match.end() + 20]
        if token in ADVERBS or (token in ("to", "by") and re.match(r"\s", after[:1] or " ") is not None):
            if token in (
                "continue",
                "continues",
                "begin",
                "begins",
                "start",
                "starts",
            ) and after.lstrip().lower().startswith("to "):
                position += match.end() + after.index("to ") + 3
                continue
            if token == "by":
                return "", position, position
            position += match.end()
            continue
        if token == "be" and re.match(r"\s+able\s+to\s+", after, re.I):
            position += match.end() + re.match(r"\s+able\s+to\s+", after, re.I).end()
            continue
        if token == "have" and re.match(
            r"\s+(?:\w+ed|written|taught|given|done|met|seen|held|begun|made|run|read|built|grown)\b", after, re.I
        ):
            position += match.end()
            continue
        return token, position, position + match.end()
    return "", position, position


def find_predications(
    text: str, sents: list[Sentence], dates: list[DateMention], quantities: list[Quantity]
) -> list[Predication]:
    """Every clause that says who will do what, with the role that makes it an action, an activity or a result."""
    found: list[Predication] = []
    for sentence in sents:
        lo, hi = sentence.body_start, sentence.end
        if sentence.label == "action":
            for item in re.split(r",\s*(?:and\s+)?|\band\s+|;\s*", text[lo:hi]):
                if item.strip():
                    where = text.find(item, lo, hi)
                    found.append(_implicit_action(text, where, where + len(item.rstrip(" ."))))
            continue
        for m in _MODAL.finditer(text, lo, hi):
            subject, subject_start = _subject(text, m.start(), lo)
            if (
                not subject
                and found
                and found[-1].start >= lo
                and re.fullmatch(r"\s*(?:and|,|, and|or)\s*", text[found[-1].end : m.start()] or " ")
            ):
                subject, kind = found[-1].subject, found[-1].kind
            else:
                kind = _kind_of_subject(subject)
            verb, verb_start, verb_end = _verb_after(text, m.end(), hi, dates)
            if not verb:
                continue
            found.extend(
                _predications_from(text, subject, kind, verb, verb_start, verb_end, hi, subject_start, quantities)
            )
        for m in _INFINITIVE_GOAL.finditer(text, lo, hi):
            who = m.group("who") or ""
            kind = _kind_of_subject(who) if who else "educator"
            verb, verb_start, verb_end = _verb_after(text, m.end(), hi, dates)
            if verb:
                found.extend(_predications_from(text, who, kind, verb, verb_start, verb_end, hi, m.start(), quantities))
        for m in _WANT_WHO_TO.finditer(text, lo, hi):
            who = m.group("who") or m.group("helped")
            verb, verb_start, verb_end = _verb_after(text, m.end(), hi, dates)
            if verb and not any(p.start <= verb_start < p.end and p.kind in ("students", "families") for p in found):
                found.extend(
                    _predications_from(
                        text,
                        who,
                        _kind_of_subject(who) if who.lower() != "them" else "students",
                        verb,
                        verb_start,
                        verb_end,
                        hi,
                        m.start(),
                        quantities,
                    )
                )
        for m in _SO_THAT.finditer(text, lo, hi):
            end = _predicate_end(text, m.end(), hi)
            clause = text[m.end() : end]
            if clause.strip() and not any(
                p.start <= m.end() < p.end + 2 and p.kind in ("students", "thing", "families") and p.start >= m.end()
                for p in found
            ):
                rest = _after_subject(clause)
                found.append(
                    Predication(
                        clause.strip(),
                        m.end(),
                        end,
                        "",
                        "students",
                        (words(rest) or [""])[0],
                        "result",
                        _content(rest, skip_first=False),
                        bool(VAGUE_RESULT.match(rest)),
                        _content(rest, mode="r", skip_first=False),
                    )
                )
        for m in _PURPOSE.finditer(text, lo, hi):
            end = _predicate_end(text, m.end(), hi)
            clause = text[m.end() : end]
            verb = (words(clause) or [""])[0]
            role = "vague" if verb in VAGUE_VERBS and verb not in OUTCOME_VERBS else "outcome"
            found.append(
                Predication(
                    clause.strip(),
                    m.end(),
                    end,
                    "",
                    "implied",
                    verb,
                    role,
                    _content(clause),
                    bool(VAGUE_RESULT.match(clause)),
                    _content(clause, mode="r"),
                )
            )
        for m in _BARE_OUTCOME.finditer(text, lo, hi):
            end = _predicate_end(text, m.end(), hi)
            clause = text[m.start() : end]
            found.append(
                Predication(
                    clause.strip(),
                    m.start(),
                    end,
                    m.group("subject"),
                    "thing",
                    m.group("verb").lower(),
                    "result",
                    _content(clause, skip_first=False),
                    False,
                    _content(clause, mode="r", skip_first=False),
                )
            )
        for m in _MEANS.finditer(text, lo, hi):
            first_word = re.match(r"\s*[\w'-]+", text[m.end() : hi])
            end = _predicate_end(text, m.end() + (first_word.end() if first_word else 0), hi)
            if end - m.end() < 3 or re.search(
                r"\b(?:measured|evidenced|shown|assessed|counted|tracked|documented|get|go|went|make it)\s*$",
                text[max(lo, m.start() - 20) : m.start()],
                re.I,
            ):
                continue
            found.append(_implicit_action(text, m.start(), end))
        for m in _EDU_CONNECTOR.finditer(text, lo, hi):
            found.extend(_connector_action(text, m.end(), hi, quantities))
        first = re.match(
            r"\s*(?:(?:by|before|in|within|over|starting|beginning|during|from)\s+[^,]{2,60}?,\s*)?([A-Za-z][\w-]*)",
            text[lo:hi],
            re.I,
        )
        if first:
            verb = first.group(1).lower()
            verb_start = lo + first.start(1)
            imperative = (
                verb in COMMON_VERBS
                and not text[verb_start].isdigit()
                and not re.match(r"[\w-]+\s+(?:will|'ll|is|are|was)\b", text[verb_start:hi])
            )
            if (
                imperative
                and (  # a sentence that opens with a verb: "Implement guided reading ..."
                    verb not in ("read", "run", "set", "meet", "support", "help")
                    or re.match(r"[\w-]+\s+(?:the|a|an|my|our|all|each|every|with|daily|weekly)\b", text[verb_start:hi])
                )
            ):
                found.extend(
                    _predications_from(
                        text, "", "implied", verb, verb_start, verb_start + len(verb), hi, verb_start, quantities
                    )
                )
        if not any(lo <= p.start < hi for p in found):
            purpose = re.search(r"\bto\s+([a-z][\w-]*)\b", text[lo:hi])
            if purpose and purpose.group(1) in COMMON_VERBS - OUTCOME_VERBS - VAGUE_VERBS:
                # a plan written without a verb of its own: "Data meetings in October and January to review scores"
                found.append(_implicit_action(text, lo, _predicate_end(text, lo + purpose.end(), hi)))
        if len(found) > MAX_PREDICATIONS:
            break
    return _dedupe(found[:MAX_PREDICATIONS])


MAX_PREDICATIONS = 120  # far more clauses than any goal has; keeps pathological input fast


def _after_subject(clause: str) -> str:
    """A so-that clause without its subject: "students close the gap" → "close the gap"."""
    tokens = clause.split()
    for index, token in enumerate(tokens[:8]):
        if token.lower().strip(",") in _HEAD_WORDS:
            rest = " ".join(tokens[index + 1 :])
            rest = re.sub(r"^(?:will|can|would|'ll)\s+", "", rest)
            return rest
    return clause


def _dedupe(found: list[Predication]) -> list[Predication]:
    kept: list[Predication] = []
    for p in sorted(found, key=lambda p: (p.start, -(p.end - p.start))):
        if any(
            k.start <= p.start
            and p.end <= k.end + 1
            and (
                k.role == p.role or (p.role in ("action", "activity") and k.role in ("action", "activity", "received"))
            )
            for k in kept
        ):
            continue
        kept.append(p)
    return kept


def _implicit_action(text: str, start: int, end: int) -> Predication:
    phrase = text[start:end].strip()
    body = re.sub(
        r"^(?:through|via|by\s+means\s+of|by\s+way\s+of|with\s+the\s+help\s+of|thanks\s+to|supported\s+by|"
        r"driven\s+by|by|using)\s+",
        "",
        phrase,
        flags=re.I,
    )
    content = _content(body, mode="a", skip_first=False)
    verb = (words(body) or [""])[0]
    light = next((v for v in LIGHT_VERBS if verb in (v + "ing", v[:-1] + "ing")), None)
    if light is not None:  # "using technology": judge what is used
        content = _content(_object_phrase(body[len(verb) :]), mode="o", skip_first=False)
    vague = content == 0 or bool(
        re.match(r"(?:hard\s+work|best\s+practices?|(?:effective|good|new|various|different)\s+strateg)", body, re.I)
    )
    return Predication(phrase, start, end, "", "implied", verb, "vague" if vague else "action", content)


def _predications_from(
    text: str,
    subject: str,
    kind: str,
    verb: str,
    verb_start: int,
    verb_end: int,
    limit: int,
    subject_start: int,
    quantities: list[Quantity],
) -> list[Predication]:
    """One predication per coordinated verb ("I will model X, confer Y and track Z")."""
    end = _predicate_end(text, verb_end, limit)
    out: list[Predication] = []
    pieces: list[tuple[str, int, int]] = []
    current_verb, current_start = verb, verb_start
    for m in re.finditer(
        r"(?:,\s*(?:and\s+)?|\s+and\s+|\s+or\s+)(?:(?:also|then|will)\s+)?([a-z][\w-]*)\b", text[verb_end:end]
    ):
        candidate = m.group(1).lower()
        absolute = verb_end + m.start(1)
        ambiguous = candidate in NOUN_OR_VERB
        if candidate in COMMON_VERBS and (not ambiguous or OBJECT_FOLLOWS.match(text, absolute, end)):
            pieces.append((current_verb, current_start, verb_end + m.start()))
            current_verb, current_start = candidate, absolute
    pieces.append((current_verb, current_start, end))
    for piece_verb, start, stop in pieces:
        out.append(
            _classify(text, subject, kind, piece_verb, start, stop, subject_start if not out else start, quantities)
        )
    return out


def _classify(
    text: str, subject: str, kind: str, verb: str, start: int, end: int, subject_start: int, quantities: list[Quantity]
) -> Predication:
    """Action, activity, received, vague, outcome or result, from who the subject is and what the verb is."""
    predicate = text[start:end].strip()
    after_verb = predicate[len(verb) :].strip()
    vague = bool(VAGUE_RESULT.match(predicate))
    practice_shares = [
        q
        for q in quantities
        if start <= q.start < end
        and q.unit in ("percent", "share")
        and q.role != "baseline"
        and q.noun != "all"
        and not re.match(r"[^,.;]{0,50}?\b(?:will|'ll)\b", text[q.end : end])
    ]
    evidence_start = subject_start if kind in ("students", "families", "thing") and subject else start
    span_text = text[evidence_start:end].strip()
    content = _content(predicate)
    substance = _content(predicate, mode="r", skip_first=False)
    if kind in ("educator", "team", "partnership", "implied"):
        if (
            verb == "meet"
            and re.match(
                r"(?:the\s+|their\s+|our\s+|my\s+|grade-level\s+|all\s+)?(?:\w+\s+)?(?:benchmark|target|goal|"
                r"standard|expectation|criteria)",
                after_verb,
                re.I,
            )
        ) or (verb == "be" and re.match(r"(?:\d|at\s|on\s|above|below|rated|proficient)", after_verb, re.I)):
            role = "outcome"
        elif verb in ("be", "become", "get", "have", "has") and kind != "implied":
            role = "vague" if not practice_shares else "outcome"
        elif verb in ("build", "builds"):
            role = (
                "outcome"
                if re.match(
                    r"(?:\w+\s+)?(?:relationships?|capacity|culture|community|trust|connections?)", after_verb, re.I
                )
                else "action"
            )
        elif verb in PEOPLE_VERBS and _WHO_NOUN.match(
            re.sub(r"^(?:at\s+least\s+)?(?:\d+|[a-z]+)\s+", "", _object_phrase(after_verb))
        ):
            role = (
                "practice"  # "place 25 student teachers": the partnership's action, and a count of people as its result
            )
        elif verb in OUTCOME_VERBS and _OWN_COUNT.match(after_verb):
            role = "activity"  # "increase the number of calls I make": a count of the educator's own activity
        elif verb in OUTCOME_VERBS:
            role = "outcome"
        elif verb in VAGUE_VERBS:
            role = "vague"
        elif verb in LIGHT_VERBS and _content(_object_phrase(after_verb), mode="o", skip_first=False) == 0:
            role = "vague"  # "use data to drive instruction": the object says nothing concrete
        elif practice_shares and verb not in ACTIVITY_VERBS:
            role = "practice"  # "cold-call in 80% of my lessons": the key action, and with its share the result
        elif verb in ACTIVITY_VERBS:
            role = "activity"
        else:
            role = "action"
        if role in ("outcome", "vague", "practice"):
            content = _content(after_verb, skip_first=False)
            substance = _content(after_verb, mode="r", skip_first=False)
        else:
            content = _content(predicate, mode="a")
    elif kind in ("students", "families"):
        if (
            verb in RECEIVE_VERBS
            or (
                verb in ("get", "gets")
                and re.match(
                    r"(?:\w+\s+){0,3}?(?:instruction|support|tutoring|feedback|lessons?|sessions?|help)\b",
                    after_verb,
                    re.I,
                )
            )
            or (
                verb == "be"
                and re.match(
                    r"(?:provided|given|taught|offered|placed|paired|assigned|screened|coached|tutored|supported|matched)\b",
                    after_verb,
                    re.I,
                )
            )
        ):
            role = "received"
            content = _content(after_verb, mode="a", skip_first=False)
        elif PARTICIPATE.match(predicate) or (verb in ("attend", "attends") and ATTEND_OBJECTS.search(after_verb[:40])):
            role = (
                "participation"  # taking part is an activity of students: neither the result nor the educator's action
            )
        else:
            role = "result"
            if _QUANTITY_SUBJECT.match(subject):
                content += _content(re.sub(r"^.*?\bof\b", "", subject), skip_first=False)
    else:  # a thing: "reading scores will rise", "small-group instruction will be provided"
        if verb == "be" and re.match(r"(?:\w+\s+)?(?:" + "|".join(EDUCATOR_PASSIVE) + r")\b", after_verb, re.I):
            role = "action"
            content = _content(subject, mode="a", skip_first=False) + _content(predicate, mode="a")
        else:
            role = "result"
            content += _content(subject, skip_first=False)
            substance += _content(subject, mode="r", skip_first=False)
    if vague:  # "be more engaged in science class": the subject names the setting, not a result
        substance = max(
            0,
            substance
            - len(
                re.findall(
                    r"\b(?:" + "|".join(SUBJECT_AREAS) + r")\s+(?:class|classes|lessons?|period|block)\b",
                    predicate,
                    re.I,
                )
            ),
        )
    return Predication(clip(span_text, 220), evidence_start, end, subject, kind, verb, role, content, vague, substance)


def _object_phrase(after_verb: str) -> str:
    """The noun phrase right after a verb, up to its first preposition or infinitive.

    "more time to write" keeps its infinitive: the time is for something concrete.
    """
    if re.search(r"\b(?:better|easier|stronger|happier|more\s+successful|more\s+fun)\b", after_verb, re.I):
        return ""  # "make my classroom better"
    keep = re.match(r"(?:[\w'-]+\s+){0,4}?(?:time|opportunities|chances|practice)\s+to\s+\w+", after_verb, re.I)
    if keep:
        return keep.group(0)
    return re.split(
        r"(?<![\w-])(?:to|for|so|in|into|with|across|during|throughout|and|or|by|on|that|which|when)(?![\w-])|[,;.]",
        after_verb,
        maxsplit=1,
    )[0]


_OWN_COUNT = re.compile(
    r"^(?:the\s+)?(?:number|count|amount|frequency)\s+of\s+[^,.;]{0,60}?\b(?:I|we)\s+(?:make|do|hold|conduct|send|"
    r"give|teach|"
    r"run|lead|deliver|host|write|complete|attend|observe|place|offer|post|share|call)\b",
    re.I,
)


def _connector_action(text: str, at: int, limit: int, quantities: list[Quantity]) -> list[Predication]:
    """ "as our counselor and K-2 teachers teach ...": an educator subject with a present-tense verb."""
    tokens = list(re.finditer(r"[A-Za-z][\w'-]*", text[at:limit]))[:10]
    last_head = None
    for index, token in enumerate(tokens):
        lowered = token.group(0).lower()
        if lowered in EDUCATOR_HEADS | TEAM_HEADS | PARTNER_HEADS and lowered not in (
            "me",
            "us",
            "school",
            "schools",
            "program",
            "programs",
        ):
            last_head = index
        elif last_head is not None and index == last_head + 1:
            if lowered in ("will", "would", "can", "'ll", "are", "is", "have", "has"):
                return []
            verb = lowered
            subject = text[at : at + tokens[last_head].end()]
            if verb in COMMON_VERBS or re.match(r"co-\w+", verb):
                start = at + token.start()
                return _predications_from(
                    text, subject, _kind_of_subject(subject), verb, start, start + len(verb), limit, at, quantities
                )
            return []
        elif last_head is None and index >= 4:
            return []
    return []


# -- rigour ----------------------------------------------------------------------------------------------

SMALL_GAIN_POINTS = 5.0  # percentage points: less than this, and less than a quarter of the gap, is small
LEAP_POINTS = 50.0  # more than this in one cycle is a leap
ALL_FROM_BELOW = 85.0  # every student / 100% from a start below this is a leap
SMALL_RELATIVE = 0.05  # for counts and scores: less than a 5% change is small


def _fmt(q: Quantity | None) -> str:
    return clip(q.text, 40) if q is not None else ""


def _group_size(*quantities: Quantity | None) -> int | None:
    """How many people a share is out of, when the text says ("6 of my 8", "all 9 seniors")."""
    for q in quantities:
        if q is None:
            continue
        found = re.search(r"\b(?:of|out of)\s+(?:the\s+|my\s+|our\s+|their\s+)?(\d+)\b|\ball\s+(\d+)\b", q.text, re.I)
        if found:
            return int(found.group(1) or found.group(2))
    return None


SMALL_GROUP = 12  # with a dozen students or fewer, "all of them" can be a realistic target


def judge_rigour(changes: list[Change], quantities: list[Quantity], practice: list[Found] = ()) -> list[RigourNote]:
    """Arithmetic on baseline and target: already met, too small a step, or a leap to everyone.

    Leaps are judged only for outcomes of groups: an educator can change their own practice a long way,
    and a caseload of nine can all get there.
    """
    notes: list[RigourNote] = []
    for change in changes:
        base, target, delta = change.baseline, change.target, change.delta
        own_practice = target is not None and _within(practice, target.start, target.end)
        small_group = (_group_size(base, target) or 99) <= SMALL_GROUP
        if base is not None and target is not None and base.value is not None and target.value is not None:
            percent_like = {base.unit, target.unit} <= {"percent", "share", "number"} and (
                base.unit in ("percent", "share") or target.unit in ("percent", "share")
            )
            gain = round((target.value - base.value) * change.direction, 1)
            if gain <= 0:
                notes.append(RigourNote("met", change, _fmt(base), _fmt(target), _num(gain)))
            elif percent_like and 0 <= base.value <= 100 and target.value <= 100:
                room = (100 - base.value) if change.direction > 0 else base.value
                if own_practice or small_group:
                    pass
                elif change.direction > 0 and target.value >= 100 and base.value < ALL_FROM_BELOW:
                    notes.append(RigourNote("all_from_low", change, _fmt(base), _fmt(target), _num(gain)))
                elif gain > LEAP_POINTS:
                    notes.append(RigourNote("leap", change, _fmt(base), _fmt(target), _num(gain)))
                if gain < SMALL_GAIN_POINTS and (room <= 0 or gain / room < 0.25):
                    notes.append(RigourNote("small", change, _fmt(base), _fmt(target), _num(gain)))
            elif base.value > 0 and gain / base.value < SMALL_RELATIVE:
                notes.append(RigourNote("small", change, _fmt(base), _fmt(target), _num(gain)))
        elif (
            delta is not None
            and delta.value is not None
            and delta.unit == "points"
            and "percent" in delta.text.lower()
            and delta.value < 3
        ):
            notes.append(RigourNote("small", change, "", _fmt(delta), _num(delta.value)))
    for q in quantities:
        if (
            q.unit == "share"
            and q.noun == "all"
            and q.role in ("share", "target")
            and (_group_size(q) or 99) > SMALL_GROUP
        ):
            bases = [c for c in changes if c.target is q and c.baseline is not None]
            if not bases:
                lows = [
                    b
                    for b in quantities
                    if b.role == "baseline"
                    and b.unit in ("percent", "share")
                    and b.value is not None
                    and b.value < ALL_FROM_BELOW
                ]
                if (
                    lows
                    and not any(n.kind == "all_from_low" for n in notes)
                    and (_group_size(lows[0]) or 99) > SMALL_GROUP
                ):
                    notes.append(
                        RigourNote(
                            "all_from_low",
                            Change(q.text, q.start, q.end, lows[0], q, None, 1),
                            _fmt(lows[0]),
                            _fmt(q),
                            "",
                        )
                    )
    return notes


def _num(value: float) -> str:
    return f"{value:g}"


# -- the reading -----------------------------------------------------------------------------------------

_ENGLISH = _wordset(
    """the and to of in for will my our by with students is are on at that this be as from i we their all each
    every through so than more students' student teacher teachers school year goal increase"""
)
_FOREIGN = _wordset(
    """el la los las de del que y en para con por una un mis sus estudiantes será les des le et pour est une
    dans au aux élèves und der die das mit für ist ein eine schüler os as um uma para com não alunos"""
)


def _language(text: str) -> str:
    tokens = re.findall(r"[^\W\d_]+", text.lower())
    if not tokens:
        return "empty"
    letters = [ch for ch in text if ch.isalpha()]
    non_latin = sum(1 for ch in letters if ord(ch) > 0x24F)
    if letters and non_latin / len(letters) > 0.5:
        return "other"
    english = sum(1 for t in tokens if t in _ENGLISH)
    foreign = sum(1 for t in tokens if t in _FOREIGN and t not in _ENGLISH)
    if len(tokens) >= 4 and foreign > english and english / len(tokens) < 0.12:
        return "other"
    return "en"


def read(text: str, today: date, calendar: CalendarLike | None = None) -> Reading:
    """Read a goal draft into its parts. Never raises: odd input gives an empty or partial reading."""
    raw = text if isinstance(text, str) else ""
    clipped = len(raw) > MAX_CHARS
    norm = normalise(raw[:MAX_CHARS])
    language = _language(norm)
    if language != "en":
        return Reading(norm, language, (), (), (), (), (), (), (), (), clipped)
    sents = sentences(norm)
    dates = find_dates(norm, today, calendar)
    cadences = find_cadences(norm)
    grade_bands = [(m.start(), m.end()) for m in GRADE_BAND.finditer(norm)]
    labels = [(m.start(), m.end()) for m in LABEL_NUMBER.finditer(norm)]
    descriptors = [(m.start(), m.end()) for m in DESCRIPTOR.finditer(norm)]
    masks: list[Found | tuple[int, int]] = [*dates, *grade_bands, *labels, *descriptors]
    masks += [c for c in cadences if not re.search(r"\d", c.text) or re.search(r"\b(?:every|each)\b", c.text, re.I)]
    quantities = find_quantities(norm, masks, cadences)
    quantities, changes = give_quantity_roles(norm, quantities, sents)
    predications = find_predications(norm, sents, dates, quantities)
    quantities = _mark_outputs(quantities, predications)
    outputs = [c for c in changes if _is_output_change(c, predications)]
    changes = [c for c in changes if c not in outputs]
    quantities = [
        replace(q, role="output") if any(q in (c.baseline, c.target, c.delta) for c in outputs) else q
        for q in quantities
    ]
    baselines: list[Found] = [q for q in quantities if q.role == "baseline"]
    dates = give_roles(norm, dates, sents, today, baselines)
    measures = find_measures(norm)
    who = find_who_in(norm, predications)
    rigour = judge_rigour(changes, quantities, [p for p in predications if p.role == "practice"])
    return Reading(
        norm,
        language,
        tuple(who),
        tuple(predications),
        tuple(quantities),
        tuple(changes),
        tuple(measures),
        tuple(dates),
        tuple(cadences),
        tuple(rigour),
        clipped,
    )


def _mark_outputs(quantities: list[Quantity], predications: list[Predication]) -> list[Quantity]:
    """A count inside an educator's action ("conduct 40 walkthroughs") counts the activity, not a result."""
    marked = []
    for q in quantities:
        if q.noun == "all" and any(
            (p.role in ("participation", "received") or not p.substance) and q.text in p.subject for p in predications
        ):
            marked.append(replace(q, role="plain"))  # "every 4th grader will take part in ...": reach, not a result
            continue
        host = next(
            (p for p in predications if p.start <= q.start < p.end and p.role in ("action", "activity", "vague")), None
        )
        outcome = next(
            (p for p in predications if p.start <= q.start < p.end and p.role in ("outcome", "practice")), None
        )
        if host is not None and q.unit in ("count", "number") and q.role in ("plain", "target"):
            q = replace(q, role="output" if q.value not in (1.0, None) else "plain")  # "co-plan one unit": an article
        elif host is not None and host.role == "activity" and q.unit in ("percent", "share") and q.role != "baseline":
            q = replace(q, role="output")  # "complete 100% of required observations": compliance with an activity
        elif outcome is not None and q.unit == "count" and q.role == "plain" and (q.value or 0) > 1:
            q = replace(q, role="target")  # "place 25 student teachers": the count the outcome aims at
        elif (
            host is not None
            and q.unit in ("percent", "share")
            and host.role in ("action", "activity")
            and q.role == "share"
            and q.noun == "all"
        ):
            q = replace(q, role="plain")  # "in all of my classes": the reach of an action
        marked.append(q)
    return marked


def _is_output_change(change: Change, predications: list[Predication]) -> bool:
    """A baseline and target on the educator's own activity ("calls I make, from 1 to 10 a month")."""
    target = change.target or change.delta
    return target is not None and any(p.role == "activity" and p.start <= target.start < p.end for p in predications)


# -- the critique ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    present: bool
    evidence: str
    tips: tuple[Problem, ...] = ()
    weak: tuple[Problem, ...] = field(default=(), compare=False)  # push-backs on a present element, best first


@dataclass(frozen=True)
class Critique:
    elements: dict[str, Verdict]
    reading: Reading

    @property
    def well_formed(self) -> bool:
        return all(v.present for v in self.elements.values())

    @property
    def tips(self) -> list[Problem]:
        return [tip for key in ELEMENTS for tip in self.elements[key].tips]

    def rendered_tips(self, key: str, fmt: prompts.Format = prompts.PLAIN) -> list[str]:
        return [render_tip(tip, fmt) for tip in self.elements[key].tips]

    def to_json(self) -> dict[str, Any]:
        """Exactly {"elements": {"S": {"present", "evidence", "tips"}, ...}}, tips as plain sentences."""
        return {
            "elements": {
                key: {"present": v.present, "evidence": v.evidence, "tips": self.rendered_tips(key)}
                for key, v in self.elements.items()
            }
        }


def render_tip(tip: Problem, fmt: prompts.Format = prompts.PLAIN) -> str:
    """Tips use the same `tip.context` convention as the coach's other tips, so engine/coach can show them."""
    return prompts.render(tip.template, {"tip": {"template": tip.template, "context": tip.context}}, fmt)


def _tip(name: str, **context: Any) -> Problem:
    return Problem(f"{TIP_DIR}/{name}", {k: v for k, v in context.items()})


def _evidence(items: Iterable[Found | str], limit: int = 3) -> str:
    """The matched texts an element rests on, without repeating a stretch already shown inside another."""
    kept: list[Found | str] = []
    for item in items:
        if isinstance(item, Found):
            if not item.text.strip() or any(
                isinstance(k, Found) and k.start <= item.start and item.end <= k.end for k in kept
            ):
                continue
            kept = [k for k in kept if not (isinstance(k, Found) and item.start <= k.start and k.end <= item.end)]
        kept.append(item)
    return _join([k.text if isinstance(k, Found) else k for k in kept], limit)


def _who_text(who: Who) -> str:
    """ "70% of my 4th graders" → "my 4th graders": the people, without the share."""
    return re.sub(
        r"^(?:(?:at\s+least\s+)?(?:\d+(?:\.\d+)?\s*%|\d+|[a-z]+)\s+(?:of|out\s+of)\s+(?:\d+\s+)?|of\s+)",
        "",
        who.text,
        flags=re.I,
    )


def _phrase(reading: Reading, found: Found, words_after: int = 3) -> str:
    """A finding with the few words that complete it ("weekly" → "weekly fluency checks")."""
    tail = re.match(
        rf"(?:\s+(?!(?:and|or|with|to|in|on|at|for|of|by|so|that|the|a|an)\b)[\w'&-]+){{0,{words_after}}}",
        reading.text[found.end :],
    )
    return found.text + (tail.group(0) if tail else "")


def _join(items: Iterable[str], limit: int = 3) -> str:
    seen: list[str] = []
    for item in items:
        item = clip(item)
        if item and item.lower() not in (s.lower() for s in seen):
            seen.append(item)
    return "; ".join(seen[:limit])


def critique(text: str, today: date | None = None, calendar: CalendarLike | None = None) -> Critique:
    """One verdict per S.M.A.R.T. element with the evidence found and at most one tip each.

    A goal with every element present gets at most one push-back in total (the most useful weak spot).
    """
    day = today or date.today()
    try:
        reading = read(text, day, calendar)
    except Exception:  # the reader is heuristic; a surprise in it must still give a verdict, not a crash
        reading = Reading(
            normalise(text[:MAX_CHARS]) if isinstance(text, str) else "", "en", (), (), (), (), (), (), (), ()
        )
    if reading.language == "other":
        verdicts = {key: Verdict(False, "") for key in ELEMENTS}
        verdicts["S"] = Verdict(False, "", (_tip("language"),))
        return Critique(verdicts, reading)
    if reading.language == "empty" or not words(reading.text):
        verdicts = {key: Verdict(False, "") for key in ELEMENTS}
        verdicts["S"] = Verdict(False, "", (_tip("empty"),))
        return Critique(verdicts, reading)
    if reading.language == "other":
        verdicts = {key: Verdict(False, "") for key in ELEMENTS}
        verdicts["S"] = Verdict(False, "", (_tip("language"),))
        return Critique(verdicts, reading)
    verdicts = {
        "S": _specific(reading),
        "M": _measurable(reading),
        "A": _action(reading),
        "R": _results(reading),
        "T": _timed(reading, day),
    }
    final: dict[str, Verdict] = {}
    if all(v.present for v in verdicts.values()):
        weakest = _first_weak(verdicts)
        for key, v in verdicts.items():
            final[key] = replace(v, tips=(v.weak[0],) if weakest == key else ())
    else:
        for key, v in verdicts.items():
            final[key] = v if v.tips or not v.weak else replace(v, tips=(v.weak[0],))
    return Critique(final, reading)


WEAK_ORDER = (
    "timed_past",
    "measurable_baseline",
    "timed_benchmarks",
    "timed_vague",
    "measurable_which",
    "specific_long",
)


def _first_weak(verdicts: dict[str, Verdict]) -> str | None:
    ranked = [
        (WEAK_ORDER.index(t.template.rsplit("/", 1)[-1]) if t.template.rsplit("/", 1)[-1] in WEAK_ORDER else 99, key)
        for key, v in verdicts.items()
        for t in v.weak[:1]
    ]
    return min(ranked)[1] if ranked else None


def _specific(reading: Reading) -> Verdict:
    """Who, and what exactly will change: from the result clauses, else a measured target, else the activities."""
    who = list(reading.who)
    results = [p for p in reading.predications if p.role in ("result", "outcome", "practice")]
    focus = [p for p in results if p.content > 0 and not p.vague]
    vague_phrase = next((p for p in results if p.vague), None)
    measured = [c for c in reading.changes if c.target is not None or c.delta is not None] + [
        q for q in reading.quantities if q.role in ("target", "share", "change") and q.noun != "all"
    ]
    stated_actions = [p for p in reading.actions if p.kind != "implied" and p.content >= 2]
    concrete = [p for p in results if p.verb not in GENERIC_VERBS and p.substance > 0]  # "read at grade level"
    evidence_who = _who_text(who[0]) if who else ""
    weak = (_tip("specific_long"),) if len(reading.text) > 2_500 else ()
    if focus:
        what = focus[0].text
    elif measured and vague_phrase is None and (reading.measures or concrete):
        what = _evidence([*(reading.measures[:1] or concrete[:1]), measured[0]], 2)
    elif not any(p.substance for p in results) and stated_actions and vague_phrase is None:
        what = stated_actions[0].text  # an activity goal is specific about the activity (R says it is not a result)
    else:
        what = ""
    if not who:
        return Verdict(False, _join([what]), (_tip("specific_who"),))
    if not what:
        phrase = vague_phrase.text if vague_phrase else next((p.text for p in results), "")
        if not phrase and reading.vague_actions:
            phrase = reading.vague_actions[0].text
        tip = (
            _tip("specific_vague", phrase=clip(phrase, 60))
            if phrase
            else _tip("specific_what", who=clip(evidence_who, 40))
        )
        return Verdict(False, _join([evidence_who, phrase]), (tip,))
    return Verdict(True, _join([evidence_who, what]), (), weak)


def _best_measure(reading: Reading) -> Measure | None:
    """The measure to show: an "as measured by" phrase, then a named assessment, then a rubric or record."""
    rank = {"instrument": 0, "rubric": 1, "rate": 2, "record": 3}
    if not reading.measures:
        return None
    return min(
        reading.measures,
        key=lambda m: (0 if m.text.lower().startswith(("as ", "measured")) else 1, rank.get(m.kind, 4), m.start),
    )


def _measurable(reading: Reading) -> Verdict:
    """A quantified target on a measure; the baseline and the named assessment make it stronger."""
    changes = [c for c in reading.changes if c.target is not None or c.delta is not None]
    targets = [
        q for q in reading.quantities if q.role in ("target", "change") or (q.role == "share" and q.noun != "all")
    ]
    all_shares = [q for q in reading.quantities if q.role in ("share", "target") and q.noun == "all"]
    outputs = [q for q in reading.quantities if q.role == "output"]
    baselines = [q for q in reading.quantities if q.role == "baseline"]
    measure = _best_measure(reading)
    shown: list[Found] = [measure] if measure is not None else []
    if changes:
        change = changes[0]
        target = _fmt(change.target or change.delta)
        weak: tuple[Problem, ...] = ()
        if change.baseline is None and not baselines:
            weak = (_tip("measurable_baseline", target=target),)
        elif measure is None:
            weak = (_tip("measurable_which", target=target),)
        return Verdict(True, _evidence([*shown, change]), (), weak)
    if targets or (all_shares and measure is not None):
        target_q = (targets or all_shares)[0]
        weak_tips: list[Problem] = []
        if not baselines:
            weak_tips.append(_tip("measurable_baseline", target=_fmt(target_q)))
        if measure is None:
            weak_tips.append(_tip("measurable_which", target=_fmt(target_q)))
        return Verdict(True, _evidence([*shown, _phrase(reading, target_q, 2)]), (), tuple(weak_tips))
    if outputs:
        return Verdict(True, _evidence([_phrase(reading, outputs[0])]), ())
    if baselines:
        what = measure.text if measure is not None else baselines[0].text
        return Verdict(False, _evidence([*shown, baselines[0]]), (_tip("measurable_target", measure=clip(what, 60)),))
    if measure is not None:
        return Verdict(False, _evidence(shown), (_tip("measurable_target", measure=clip(measure.text, 60)),))
    return Verdict(False, "", (_tip("measurable_none"),))


def _action(reading: Reading) -> Verdict:
    """Key actions by the educator or team; what only students do, or vague intentions, do not count."""
    actions = list(reading.actions)
    if actions:
        return Verdict(True, _join(a.text for a in actions), ())
    vague = reading.vague_actions
    if vague:
        return Verdict(False, _join([vague[0].text]), (_tip("action_vague", phrase=clip(vague[0].text, 60)),))
    students = [p for p in reading.predications if p.kind in ("students", "families") and p.role == "result"]
    if students:
        return Verdict(False, "", (_tip("action_students"),))
    return Verdict(False, "", (_tip("action_none"),))


def _results(reading: Reading) -> Verdict:
    """A named result, not only activities, whose numbers make it a stretch yet achievable."""
    results = list(reading.results)
    if not results:
        activities = [p for p in reading.actions if p.role in ("activity", "action")]
        if activities:
            return Verdict(
                False, _join([activities[0].text]), (_tip("results_activity", phrase=clip(activities[0].text, 60)),)
            )
        return Verdict(False, "", (_tip("results_none"),))
    evidence = _evidence(results, 2)
    for note in reading.rigour:
        context = {"baseline": note.baseline, "target": note.target, "gain": note.gain}
        return Verdict(False, _evidence([note.change, *results], 2), (_tip(f"results_{note.kind}", **context),))
    return Verdict(True, evidence, ())


def _timed(reading: Reading, today: date) -> Verdict:
    """A completion date; benchmarks or a tracking cadence make it tracked."""
    deadline = reading.deadline
    checks = [d.text for d in reading.checkpoints] + [c.text for c in reading.tracking]
    if deadline is None:
        starts = [d for d in reading.dates if d.role == "start"]
        others = [d for d in reading.dates if d.role in ("checkpoint", "event", "window")]
        if others and len(others) + len(starts) >= 1 and not (starts and not others):
            return Verdict(
                False, _join([d.text for d in others]), (_tip("timed_which", dates=_join([d.text for d in others], 3)),)
            )
        if starts:
            return Verdict(False, _join([starts[0].text]), (_tip("timed_start", date=clip(starts[0].text, 40)),))
        return Verdict(False, "", (_tip("timed_none"),))
    evidence = _join(
        [deadline.text, *[d.text for d in reading.checkpoints], *[_phrase(reading, c) for c in reading.tracking]], 3
    )
    weak: list[Problem] = []
    if deadline.value is not None and deadline.value < today - timedelta(days=30 if deadline.approximate else 0):
        weak.append(_tip("timed_past", date=clip(deadline.text, 40)))
    if not checks:
        weak.append(_tip("timed_benchmarks"))
    if deadline.value is None:
        weak.append(_tip("timed_vague", phrase=clip(deadline.text, 40)))
    return Verdict(True, evidence, (), tuple(weak))
