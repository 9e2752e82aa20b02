// The words the heuristic classifier (classify.ts) looks for in the
// instruction, by what they say about the work; the points they are worth
// are listed there.

/** Asking for something to be made... */
export const MAKE = "(?:write|draft|compose|create|make|generate|build|produce|prepare|turn)";
/** ...a piece of work a competent model writes in one go... */
const SMALL_ARTEFACTS =
  "emails?|letters?|story|essay|post|poem|function|script|program|query|tests?|report|class|speech|recipe|plan|itinerary|schedule|proposal|bio|regex|file|ideas";
/** ...or a whole program, which is a project. */
const LARGE_ARTEFACTS = "compiler|interpreter|app|application|rest api|api|service|website|game|library|framework|engine|platform";

// --- one program ------------------------------------------------------------------------------

/** Code of program size: many requirements for one of these are a project. */
const PROGRAMS =
  "script|program|service|app|application|api|cli|tool|server|bot|component|extension|plugin|add-on|crawler|scraper|daemon|pipeline|dashboard|widget|website|site|backend|frontend|sdk|client|game";
/** Code of function size: a handful of requirements for one of these is still one piece of work. */
const SNIPPETS = "function|method|class|query|regex|hook|macro|snippet";
const CODE_VERB = `(?:${MAKE.slice(3, -1)}|implement|code|develop|need|want)`;
/** Up to 60 characters within a sentence; a dot inside a word ("Node.js") does not end it. */
const SAME_SENTENCE = "(?:[^.?!]|\\.(?=\\S)){0,60}?";
export const PROGRAM_ASK = new RegExp(`\\b${CODE_VERB}\\b${SAME_SENTENCE}\\b(?:${PROGRAMS})\\b`);
export const SNIPPET_ASK = new RegExp(`\\b${CODE_VERB}\\b${SAME_SENTENCE}\\b(?:${SNIPPETS})\\b`);
/** "Requirements for the CLI: ... Write it in Go.": the program is named in the opening, the ask comes last. */
export const WRITE_IT = /\b(?:write|build|implement|code|create|make)\b[^.?!]{0,20}?\b(?:it|this|the (?:code|whole thing|program))\b/;
export const PROGRAM_NOUN = new RegExp(`\\b(?:${PROGRAMS})\\b`);
/** A list item: "- x", "* x", "• x", "1. x", "1) x", at the start of a line (see DOCUMENT_HEADER for why not the m flag). */
export const LIST_ITEM = /(?:^|\n)[ \t]*(?:[-*•]|\d{1,2}[.)])[ \t]+\S/g;

export const STRONG_CUES: readonly RegExp[] = [
  /\bprove\b|\bproof\b/,
  /\bderive\b|\bderivation\b/,
  /\bdesign (?:a|an|the)\b/,
  /\btrade-?offs?\b/,
  /\brefactor/,
  /\bthreat model/,
  /\bliterature review\b/,
  /\bcritically\b/,
  /\broot cause\b/,
  /\bsecond-order\b/,
  /\bsynthesi[sz]e\b/,
];

export const WEAK_CUES: readonly RegExp[] = [
  /\banaly[sz]e\b|\banalysis\b/,
  /\bevaluate\b/,
  /\bcompar(?:e|ing)\b|\bcontrast/,
  /\bstep by step\b|\bevery step\b/,
  /\bcomprehensive\b|\bin[- ]depth\b|\bdetailed\b/,
  /\bmigrat(?:e|ions?)\b/,
  /\bforecast\b/,
  /\bjustif(?:y|ication)\b/,
  /\bgenerali[sz]e\b/,
  /\bassumptions?\b/,
  new RegExp(`\\b${MAKE}[^.?!]{0,40}?\\b(?:${LARGE_ARTEFACTS})\\b`),
  /\bconcurren(?:t|cy)\b/,
  /\bdistributed\b/,
  /\block-free\b/,
  // What could have happened otherwise: reasoning about causes, not reading them.
  /\b(?:could|would|might|should) have\b/,
  /\bweigh(?:ing)?\b/,
];

/** Troubleshooting: the cause is to be found, not read. */
export const TROUBLESHOOT = /\bwhat could (?:be )?(?:wrong|cause)|\bwhat(?:'s| is) (?:wrong|going on|happening)\b|\btroubleshoot/;

export const TASK_CUES: readonly RegExp[] = [
  /\bexplain\b/,
  /\bdescribe\b/,
  /\bsummari[sz]e\b|\bsummary\b/,
  /\boutline\b/,
  /\bproofread\b/,
  /\brewrite\b/,
  /\bdraft\b/,
  new RegExp(`\\b${MAKE}[^.?!]{0,60}?\\b(?:${SMALL_ARTEFACTS})\\b(?! address)`),
  /\bdebug/,
  /\bsuggest\b/,
  /\bbest way\b|\bhow should (?:i|we)\b/,
  /\bunit tests?\b/,
  /\bpros and cons\b/,
  /\bwhy\b/,
  /\bhow (?:does|do)\b(?! (?:i|you)\b)/,
  /\bhelp me understand\b/,
  TROUBLESHOOT,
  /\bitinerary\b/,
  /\bplan\b/,
  /\bimplement\b/,
  // Making a program is work, whatever it is called ("write a web scraper").
  PROGRAM_ASK,
];

export const BREVITY_CUES: readonly RegExp[] = [
  /\bin (?:one|a|a single) (?:sentence|word|line)\b/,
  /\byes or no\b/,
  /\bone[- ](?:word|line|sentence)\b/, // "a one-line summary"
  /\bbriefly\b/,
  /\bhaiku\b/,
  /\bjoke\b/,
  /\bsynonym\b/,
];

/** An ask that sorts, ranks or picks from a list: the list is its data ("Alphabetize: pears, apples, ..."), not requirements. */
export const LIST_IS_DATA =
  /^(?:please )?(?:sort|alphabeti[sz]e|order|rank|arrange|reverse|shuffle|pick|choose)\b|^which (?:one )?of (?:these|the following)\b|^(?:please )?add\b[^.?!]*\bto (?:the|my|our) (?:[a-z-]+ )?(?:list|cart|basket|order|calendar|playlist)\b/;

/** Verbs of distinct things to do: three in one ask make it a several-part job. */
export const ASK_VERBS =
  /\b(?:explain|describe|summari[sz]e|list|compare|build|write|draft|find|spot|propose|recommend|estimate|tell me|identify|categori[sz]e|calculate|compute|design|analy[sz]e|evaluate|justify|rank|review|fix|suggest|outline|create|implement|choose|forecast|give)\b/g;

// --- reading one document ---------------------------------------------------------------

/** Asking what a text says: summarise it, its main finding, extract or list from it, a question about it. */
export const READ_CUES =
  /\bsummar(?:y|i[sz]e)|\btl;?dr\b|\bgist\b|\b(?:main|key|central) (?:finding|point|idea|argument|conclusion|result|claim|message|takeaway|fact|date|figure|term)s?\b|\btakeaways?\b|\bextract\b|\bpull out\b|\b(?:list|find) (?:the|all|every)\b|^(?:what|what's|whats|who|whose|when|where|which|how|is|are|does|do|did)\b|\bwhat (?:is|are|was|were|does|did|do)\b|\bconclude|\babout\b|\baccording to\b|\bexplain\b|\bdescribe\b/m;
/** ...where the source of the answer is the text itself, so "the root cause, according to the report" is read, not found. */
export const FROM_THE_TEXT = /\baccording to\b|\b(?:does|do|did) (?:the|this|it) (?:\w+ )?(?:say|state|mention|claim)\b|\b(?:from|in) the (?:text|chapter|report|paper|article|document|transcript|manual|contract|agreement)\b/;
/** A prediction or a hypothesis ("which would backfire"): the answer is not in the text, it must be reasoned. "Could you" and "I would like" are politeness. */
export const HYPOTHETICAL = /\b(?:would|could|might)\b(?! (?:you|like|love)\b)/;
/** Work whose answer is as long as the text (translate or rewrite all of it), or advice beyond the text. */
export const REWORK_CUES =
  /\btranslat|\brewrit|\bproofread|\bparaphrase|\bedit\b|\bconvert\b|\breformat|\bcontinue\b|\bfix\b|\bpropose\b|\brecommend|\bsuggest|\bimprove|\bcritique|\bassess|\breview\b|\bdraft\b|\bwhat would you\b|\bshould (?:i|we)\b|\b\d{3,}[- ]words?\b/;

// --- documents ------------------------------------------------------------------------------

export const NUMBER_WORDS: Record<string, number> = {
  two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10, eleven: 11, twelve: 12,
};
const DOCUMENT_NOUNS = "papers|documents|articles|chapters|abstracts|contracts|reports|studies|files|transcripts|sources|essays";
export const COUNTED_DOCUMENTS = new RegExp(`\\b(\\d+|${Object.keys(NUMBER_WORDS).join("|")}) (?:[a-z-]+ )?(?:${DOCUMENT_NOUNS})\\b`);
/**
 * A header line ("Paper 2", "Chapter B"). Case-insensitive, so the ask need
 * not be lowercased (a copy) to find them; "(?:^|\n)" rather than the m
 * flag's "^", which V8 tries at every position (7x slower on 10 KB).
 */
export const DOCUMENT_HEADER = /(?:^|\n)(?:paper|document|article|chapter|abstract|contract|report|study|file|transcript|source|essay) ([0-9]{1,3}|[a-z])\b/gi;
