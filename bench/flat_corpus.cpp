// flat_corpus: a second, independent generator of a synthetic corpus and of
// user questions for search benchmarks.
//
//   flat_corpus pages N [SEED]               N pages as JSON Lines (the schema
//                                            of data/sample-corpus.jsonl)
//   flat_corpus questions N [SEED] [--short] N questions, one JSON object a
//                                            line: {"query", "words", "creator"}
//
// The corpus shape it aims for is a hard case for an inverted index: a FLAT
// vocabulary of about 3,000 everyday music-production tokens whose
// frequencies follow a Zipf law with exponent ~0.5 rather than ~1, so
// hundreds of words occur in a large fraction of all pages and have long
// posting lists.
//
// The vocabulary is built from a few hundred real words plus their
// inflections (plurals, verb forms, comparatives, adverbs, -ness nouns, -ish
// adjectives, re-/over-/un- verbs) and noun compounds ("drumbus"), and is the
// same for every seed. Text comes from sentence templates with function
// words. Each slot kind (noun, plural noun, adjective, comparative, adverb,
// and the four verb forms) draws from its own ranked token list with a
// Zipf(0.5) law; each list is cut to a length proportional to how often its
// slot kind occurs in the templates, which makes the union of the lists
// follow one Zipf(0.5) law over the whole vocabulary (a list holding a share
// q of the slots and of the vocabulary takes every 1/q-th global rank).
//
// Every page and every question has its own RNG, seeded from (SEED, index):
// output is deterministic for a given seed, and is streamed a line at a time.

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iterator>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

namespace {

using Json = nlohmann::ordered_json;

constexpr std::size_t kTargetVocabulary = 3000;  // distinct lowercase tokens in the text
constexpr double kWordZipf = 0.5;                // exponent of every slot kind's list
constexpr double kCreatorZipf = 1.0;             // skew of pages (and filters) over creators
constexpr std::size_t kCreators = 200;
constexpr std::uint64_t kLexiconSeed = 0x6a09e667f3bcc909ULL;  // the same for every SEED
constexpr double kFocusShare = 0.2;  // share of a page's noun slots filled by its focus nouns
constexpr double kCreatorFilterShare = 0.1;  // questions restricted to one creator

// ---------------------------------------------------------------------------
// Random numbers: splitmix64 seeds xoshiro256**; both are fully specified,
// so the output does not depend on the standard library's distributions.

std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class Rng {
 public:
  explicit Rng(std::uint64_t seed) {
    for (auto& word : s_) word = splitmix64(seed);
  }
  // An independent stream for item `index` of kind `stream`.
  Rng(std::uint64_t seed, std::uint64_t stream, std::uint64_t index) {
    std::uint64_t mix = seed;
    mix = splitmix64(mix) ^ stream;
    mix = splitmix64(mix) ^ index;
    for (auto& word : s_) word = splitmix64(mix);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n), n > 0.
  std::size_t below(std::size_t n) {
    return std::min(n - 1, static_cast<std::size_t>(unit() * static_cast<double>(n)));
  }
  // Uniform in [lo, hi].
  std::size_t between(std::size_t lo, std::size_t hi) { return lo + below(hi - lo + 1); }
  bool chance(double p) { return unit() < p; }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

template <typename T>
void shuffle(std::vector<T>& items, Rng& rng) {
  for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[rng.below(i)]);
}

// Ranks 0..n-1 with P(rank r) proportional to (r+1)^-s.
class Zipf {
 public:
  Zipf() = default;
  Zipf(std::size_t n, double s) {
    cdf_.reserve(n);
    double total = 0;
    for (std::size_t i = 0; i < n; ++i) {
      total += std::pow(static_cast<double>(i + 1), -s);
      cdf_.push_back(total);
    }
  }
  std::size_t draw(Rng& rng) const {
    const double u = rng.unit() * cdf_.back();
    const auto it = std::upper_bound(cdf_.begin(), cdf_.end(), u);
    return std::min(static_cast<std::size_t>(it - cdf_.begin()), cdf_.size() - 1);
  }

 private:
  std::vector<double> cdf_;
};

// ---------------------------------------------------------------------------
// Word lists. Whitespace-separated, roughly from common to less common: the
// order is the rank order within each slot kind's list. Derived words (-ness,
// -ish, prefixed verbs, compounds) rank after all listed words.
//
// Nouns:      word        regular plural
//             word!       uncountable (never in a plural slot)
//             word=plural irregular plural
// Verbs:      word[+][:participle][/flags]
//             +  doubles the final consonant (pan -> panned, panning)
//             :  irregular past participle (send:sent)
//             /r /o /u  also a re-, over-, un- verb, with all its forms
// Adjectives: word[+][*][~][-]
//             +  doubles the final consonant (big -> bigger)
//             *  no -er comparative, no -ness noun, no -ish form
//             ~  no -ly adverb
//             -  no -ness noun

constexpr std::string_view kNounList =
    "mix sound track bass kick level volume vocal drum snare synth chord groove release! "
    "attack! automation! arc note beat loop sample part song channel fader bus send return "
    "plugin effect reverb delay filter compressor limiter meter peak gain! signal frequency "
    "tone pitch tempo bar section verse chorus drop intro outro bridge hook melody rhythm "
    "layer stem pad lead pluck hat clap cymbal tom percussion! guitar piano key string horn "
    "voice take phrase line bassline patch preset knob setting threshold ratio knee band "
    "curve shelf=shelves boost sweep notch range octave interval scale harmony progression "
    "session project template arrangement transition fill build break riser impact "
    "transient tail body punch! weight! warmth! air! space room depth! width! balance! "
    "stereo! panning! center side edge low mid high top bottom end speaker monitor "
    "headphone ear listener car phone club studio desk laptop controller interface cable "
    "microphone preamp input output clip region marker grid timeline window screen color "
    "name folder file bounce export render master reference target goal problem issue fix "
    "trick tip rule habit routine workflow idea draft version backup deadline minute hour "
    "day week moment time start step stage pass round detail texture character feel vibe "
    "energy! tension! contrast motion! movement swing! shuffle timing! velocity accent "
    "ghost rest silence gap noise hiss! hum! click pop distortion! saturation! drive "
    "crunch! grit! fuzz! harmonic overtone envelope oscillator wave waveform sine saw "
    "square pulse modulation! rate amount cutoff resonance! unison! detune! spread! phaser "
    "flanger tremolo! vibrato! glide arpeggio sequence pattern chop slice stretch warp "
    "sidechain pump headroom! loudness! dynamics! phase polarity! image field front back "
    "distance decay! predelay! plate hall spring echo=echoes feedback! tape vinyl! "
    "crackle! mono! sub eq shaker tambourine conga bongo rim brush stick pedal amp cab "
    "pickup fret choir violin cello brass! flute organ bell mallet marimba drone "
    "ambience! foley! recording performance producer engineer artist singer label album "
    "single playlist genre style house! techno! trap! rock! jazz! soul! funk! budget cost "
    "brain mood emotion story lyric word syllable consonant vowel breath sibilance! "
    "plosive booth mic cue spectrum! analyzer graph number value decibel hertz! "
    "millisecond bit buffer latency! computer disk library pack kit list tag chain rack "
    "macro lane group aux insert slot dial switch mode algorithm model emulation console "
    "summing! glue! shine! sparkle! bite! snap! thump boom thud knock rumble mud! honk! "
    "ring whistle artifact glitch stutter roll flam downbeat upbeat offbeat backbeat "
    "halftime! triplet measure count tick metronome point path swell shot";

constexpr std::string_view kVerbList =
    "set+:set/r cut+:cut use/ro boost/o add keep:kept make:made/r give:given bring:brought "
    "push pull pan+ mute/u solo/u send:sent/r route/r group/ru bounce export render/r "
    "record/r play/r hit+:hit hold:held release tune/r detune layer stack/r blend "
    "balance/r compress/ro limit gate duck pump drive:driven/o saturate/o distort clip+ "
    "shape/r sculpt carve scoop notch sweep:swept filter automate ride:ridden fade open "
    "close tighten loosen widen narrow thin+ thicken smooth soften brighten darken warm "
    "fill clean trim+ chop+ slice stretch/o warp quantize/ro swing:swung nudge shift move "
    "delay reverse sample/ro loop sequence program+ arrange/r build:built/r drop+ start/r "
    "finish check/r listen hear:heard compare match measure meter monitor reference level "
    "mix/ro master/r save name/r label/r color sort sidechain glue punch lift lower raise "
    "sit+:sat cover/u mask/u clash sum+ split+:split copy paste print/r commit+ "
    "freeze:frozen/u edit/o test/r learn/u practice write:written/ro sketch try focus/r "
    "fix solve avoid notice process/ro load/ro dub+/o lay:laid/o work/ro think:thought/r "
    "cook/o tweak/o voice/r pitch/r time/r track bypass link/ru plug+/u lock/u pack/ru "
    "assign/r map+/r trigger/r modulate resonate crossfade swell bleed:bled smear blur "
    "choke sustain breathe stutter glitch scratch strum pluck tap+ clap+ snap+ drag+ drift "
    "lean anchor frame highlight emphasize support serve lead:led follow answer echo "
    "double harmonize invert transpose resolve sync/r bend:bent dip+ shake:shaken flip+ "
    "wobble flutter shimmer pulse crunch fold/u tilt polish sharpen dampen flatten fatten "
    "lengthen shorten lighten sweeten rush pause stop+ merge join slide:slid capture "
    "archive upload share publish/r schedule/r review rate judge trust hide:hidden reveal "
    "bury place/r position/r center spread:spread scatter gather adjust/r align/r amplify "
    "attenuate audition bake blast bump calibrate/r clamp collapse condense crush cycle/r "
    "damp define/r design/r dial dim+ disable distribute/r divide drown ease enable enhance "
    "equalize expand fake feed:fed fight:fought fit+:fit flow fuse grab+ grow:grown/o guide "
    "hack ignore import/r improve isolate jam+ kill launch manage mark mash mount mold/r "
    "normalize order/r organize/r overlap paint pick pin+ plan+ poke preview produce reach "
    "read:read/r rip+ rise:risen roll/u rotate run+:run/ro scale/r scrub+ select separate "
    "settle shave shred sing:sung skip+ smash squash squeeze stab+ steer strip+ swap+ tame "
    "taper toggle treat tuck twist vary wash weigh whip+ wrap+/u zoom";

constexpr std::string_view kAdjectiveList =
    "warm bright loud quiet soft hard~ dark clean dirty dry wet+ wide narrow thin+ thick~ "
    "fat+~- big+~- small~ short~ long~- tight loose deep low~- high~- fast~- slow heavy "
    "light punchy muddy harsh smooth rough crisp clear full empty~ busy sparse dense rich "
    "flat+ sharp dull hot+~- cold fresh old~- new simple subtle gentle steady solid* "
    "strong weak boomy boxy tinny nasal* airy present*~ distant* close forward*~ "
    "natural* musical* aggressive* dynamic* static*~ analog*~ digital* vintage*~ modern*~ "
    "clinical* organic* obvious* audible* open* raw~ glossy gritty fuzzy silky lush huge* "
    "tiny~ crunchy snappy bouncy groovy~ tidy messy balanced*~ consistent* stable*~ "
    "careful* quick easy safe extreme* gradual* sudden* constant* random* tonal*~ "
    "rhythmic* melodic* final* main* whole*~ entire* extra*~ basic* useful* common* "
    "typical* late early~ proper* wrong* calm steep shallow hollow sweet sour~ bitter* "
    "grainy noisy dusty shiny cloudy glassy metallic* wooden*~ plucky breathy raspy husky "
    "cheap clever* bassy trebly hissy clicky poppy roomy spacey spiky peaky thumpy honky "
    "fizzy buzzy zingy wobbly jittery sloppy glitchy swingy bubbly grungy dreamy moody "
    "jazzy funky bluesy twangy crackly brittle mellow velvety woody throaty sibilant* "
    "resonant* percussive* ambient*~ atmospheric* cinematic* minimal* hazy murky bold "
    "faint sleek lean tame wild odd~ stiff vivid* intimate* edgy mushy washy splashy "
    "choppy jumpy springy rubbery papery stuffy";

constexpr std::string_view kPureAdverbList =
    "slightly often usually always sometimes instead together gradually rarely";

// Compounds: a modifier glued to a head noun ("drumbus", "vocalchain",
// "subgroups"), in a fixed shuffled order; as many are used as the
// vocabulary target needs.
constexpr std::string_view kCompoundModifiers =
    "sub drum vocal bass synth side key mid top low high back down up loop beat sound mix "
    "master sample wave band room tape snare kick hat pad lead chord ghost noise air over "
    "under pre post multi auto cross half double main group stem";
constexpr std::string_view kCompoundHeads =
    "line chain bus layer group send return track bank pack kit stem rack lane loop patch "
    "part fill hit tail range end shelf curve step break point pass path mix sound level "
    "tone note beat room space field side signal hook groove pattern preset template "
    "setting rate boost cut sweep swell roll shot take channel fader meter drive gate "
    "filter delay";

// Function words. Most also occur in the templates; listing them keeps the
// vocabulary count honest.
constexpr std::string_view kFunctionWords =
    "the a an your my when to and of on in for with it is are be was that this then so but "
    "or if you we they them its there not no can should will would before after until than "
    "too more most less each every other into from by at as all some any both only just "
    "also even how what why which where do does i about over under through without between "
    "against while because enough same one own again here";

std::vector<std::string_view> split_words(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < text.size() && text[i] != ' ') ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

// ---------------------------------------------------------------------------
// English inflection, enough for the lists above.

bool is_vowel(char c) {
  return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u';
}
bool ends_with(std::string_view w, std::string_view tail) {
  return w.size() >= tail.size() && w.substr(w.size() - tail.size()) == tail;
}
bool consonant_y(std::string_view w) {
  return w.size() >= 2 && w.back() == 'y' && !is_vowel(w[w.size() - 2]);
}
bool sibilant_end(std::string_view w) {
  return ends_with(w, "s") || ends_with(w, "x") || ends_with(w, "z") || ends_with(w, "ch") ||
         ends_with(w, "sh");
}
std::string chop_last(std::string_view w) {
  return std::string(w.substr(0, w.size() - 1));
}

std::string plural_of(std::string_view w) {
  if (consonant_y(w)) return chop_last(w) + "ies";
  if (sibilant_end(w)) return std::string(w) + "es";
  return std::string(w) + "s";
}

struct Noun {
  std::string sg, pl;  // pl empty: uncountable
};
struct Verb {
  std::string base, s, ed, ing;
};
struct Adjective {
  std::string base, er;  // er empty: no -er comparative
};

Verb inflect_verb(std::string_view base, bool double_final, std::string_view participle) {
  const std::string b(base);
  Verb v{b, {}, {}, {}};
  if (consonant_y(base))
    v.s = chop_last(base) + "ies";
  else
    v.s = sibilant_end(base) ? b + "es" : b + "s";
  if (double_final) {
    v.ed = b + b.back() + "ed";
    v.ing = b + b.back() + "ing";
  } else if (base.back() == 'e') {
    v.ed = b + "d";
    v.ing = ends_with(base, "ee") ? b + "ing" : chop_last(base) + "ing";
  } else if (consonant_y(base)) {
    v.ed = chop_last(base) + "ied";
    v.ing = b + "ing";
  } else {
    v.ed = b + "ed";
    v.ing = b + "ing";
  }
  if (!participle.empty()) v.ed = std::string(participle);
  return v;
}

std::string comparative_of(std::string_view w, bool double_final) {
  if (double_final) return std::string(w) + w.back() + "er";
  if (consonant_y(w)) return chop_last(w) + "ier";
  if (w.back() == 'e') return std::string(w) + "r";
  return std::string(w) + "er";
}

std::string adverb_of(std::string_view w) {
  if (ends_with(w, "le")) return chop_last(w) + "y";
  if (ends_with(w, "ic")) return std::string(w) + "ally";
  if (ends_with(w, "ll")) return std::string(w) + "y";
  if (consonant_y(w) && w.size() > 3) return chop_last(w) + "ily";
  return std::string(w) + "ly";
}

std::string ness_of(std::string_view w) {
  if (consonant_y(w) && w.size() > 3) return chop_last(w) + "iness";
  return std::string(w) + "ness";
}

// ---------------------------------------------------------------------------
// Templates. "{X}" is a slot, anything else a literal; punctuation sticks to
// the word before it.
//   {N} noun  {Ns} plural noun  {F} {Fs} one of the page's focus nouns
//   {A} adjective  {Ac} comparative  {Av} adverb
//   {V} verb  {Vs} 3rd person  {Ved} participle  {Ving} gerund

enum class Slot : std::uint8_t {
  kLiteral,
  kNoun,
  kNouns,
  kFocus,
  kFocusPl,
  kAdj,
  kAdjEr,
  kAdv,
  kVerb,
  kVerbS,
  kVerbEd,
  kVerbIng,
};

// The ranked token lists; a slot draws from one of them.
enum Kind : std::uint8_t {
  kNounSg,
  kNounPl,
  kAdjBase,
  kAdjComparative,
  kAdverb,
  kVerbBase,
  kVerbThird,
  kVerbParticiple,
  kVerbGerund,
  kKinds,
};

Kind kind_of(Slot s) {
  switch (s) {
    case Slot::kNouns:
    case Slot::kFocusPl:
      return kNounPl;
    case Slot::kAdj:
      return kAdjBase;
    case Slot::kAdjEr:
      return kAdjComparative;
    case Slot::kAdv:
      return kAdverb;
    case Slot::kVerb:
      return kVerbBase;
    case Slot::kVerbS:
      return kVerbThird;
    case Slot::kVerbEd:
      return kVerbParticiple;
    case Slot::kVerbIng:
      return kVerbGerund;
    default:
      return kNounSg;
  }
}

struct Token {
  Slot slot = Slot::kLiteral;
  std::string text;   // the literal
  std::string trail;  // punctuation after the word
};
using Template = std::vector<Token>;

Slot slot_named(std::string_view name) {
  static constexpr std::pair<std::string_view, Slot> kSlots[] = {
      {"N", Slot::kNoun},     {"Ns", Slot::kNouns},     {"F", Slot::kFocus},
      {"Fs", Slot::kFocusPl}, {"A", Slot::kAdj},        {"Ac", Slot::kAdjEr},
      {"Av", Slot::kAdv},     {"V", Slot::kVerb},       {"Vs", Slot::kVerbS},
      {"Ved", Slot::kVerbEd}, {"Ving", Slot::kVerbIng},
  };
  for (const auto& [n, slot] : kSlots)
    if (n == name) return slot;
  std::fprintf(stderr, "flat_corpus: bad template slot {%.*s}\n", static_cast<int>(name.size()),
               name.data());
  std::exit(70);
}

Template parse_template(std::string_view text) {
  Template tokens;
  for (std::string_view piece : split_words(text)) {
    std::size_t core = piece.size();
    while (core > 0 && std::string_view(",.;:?").find(piece[core - 1]) != std::string_view::npos)
      --core;
    Token token;
    token.trail = std::string(piece.substr(core));
    const std::string_view word = piece.substr(0, core);
    if (word.size() > 2 && word.front() == '{' && word.back() == '}')
      token.slot = slot_named(word.substr(1, word.size() - 2));
    else
      token.text = std::string(word);
    tokens.push_back(std::move(token));
  }
  return tokens;
}

std::vector<Template> parse_templates(std::initializer_list<std::string_view> texts) {
  std::vector<Template> out;
  for (std::string_view text : texts) out.push_back(parse_template(text));
  return out;
}

bool is_noun(Slot s) {
  return s == Slot::kNoun || s == Slot::kNouns || s == Slot::kFocus || s == Slot::kFocusPl;
}

// Body text: each sentence at most 20 words.
const std::vector<Template>& content_templates() {
  static const auto* t = new std::vector<Template>(parse_templates({
      "{V} the {N} {Av} before you {V} the {Ns}.",
      "When the {N} {Vs} too {A}, {V} the {N} on your {N}.",
      "A {A} {N} {Vs} the {N} and {Vs} the {Ns} {Ac}.",
      "If your {Ns} sound {A}, try {Ving} the {N} with a {A} {N}.",
      "The {N} of the {N} should {V} {Av} into the {N}.",
      "Most {Ns} get {Ac} when you {V} the {N} and {V} the {N}.",
      "Keep the {N} {A} and let the {N} {V} the {Ns}.",
      "{Ving} the {N} on a {A} {N} gives the {N} more {N}.",
      "This is where the {N} {Vs} the {N} {Av}.",
      "You can {V} the {N} by {Ving} the {Ns} on the {N}.",
      "Then {V} the {N} until the {Ns} feel {A} and {A}.",
      "{A} {Ns} and {A} {Ns} both {V} the {N}, so {V} them {Av}.",
      "The {N} was {Ved} with a {A} {N}, which {Vs} the {N} {Ac}.",
      "It helps to {V} the {N} in the {N} before {Ving} any {Ns}.",
      "Do not {V} every {N}; pick the {N} that {Vs} the {N}.",
      "A {Ved} {N} sounds {Ac} than a {A} {N} on most {Ns}.",
      "Listen to the {N} and the {N} together, then {V} the {N}.",
      "For {A} {Ns}, a {N} on the {N} is often enough.",
      "The {N} {Vs} {Av} when the {N} is {Ved}.",
      "Use a {A} {N} to {V} the {N} and a {A} {N} to {V} the {Ns}.",
      "Each {N} needs its own {N}, or the {Ns} will {V} the {N}.",
      "With {Ns} this {A}, the {N} can {V} {Av}.",
      "Set the {N} {Ac} than the {N} and {V} the {N} from there.",
      "Your {N} {Vs} the {N} instead of {Ving} against it.",
      "Try a {A} {N} on the {N} and {V} the {N} {Av}.",
      "In a {A} {N}, the {Ns} and the {Ns} {V} for the same {N}.",
      "First the {N} gets {Ved}, then the {N} is {Ved}, and the {Ns} come last.",
      "That {A} {N} is what makes the {N} {V}.",
      "There is no {A} {N} for every {N}, so {V} with your {Ns}.",
      "After {Ving} the {N}, check the {N} against a {A} {N}.",
      "The more you {V} the {N}, the {Ac} the {N} gets.",
      "Some {Ns} {V} better with a {N} {Ved} {Av}.",
      "Automate the {N} so the {N} {Vs} {Av} through the {N}.",
      "If the {N} {Vs}, {V} it {Av} and {V} the {N} again.",
      "{Ns} that {V} too {Av} can {V} the whole {N}.",
      "Start with the {N}, {V} the {Ns}, then bring in the {N}.",
      "A little {N} on the {N} goes a long way.",
      "Compare the {Ved} {N} with the {A} one at the same {N}.",
      "Do this on every {N} and the {N} will get {Ac}.",
      "This works because the {N} {Vs} the {N} before the {N} can {V}.",
      "We {V} the {F} first, because the {Fs} {V} everything else.",
      "Once the {F} is {A}, the {N} and the {Fs} {V} {Av}.",
      "Most of the {N} comes from the {F}, not from the {N}.",
      "Between the {N} and the {N} there is a {A} {N} to {V}.",
      "{Ving} {Ns} is {Ac} than {Ving} the {N}, and it {Vs} the {F}.",
      "Once the {Ns} are {Ved}, {V} the {N} and {V} it {Av}.",
      "A {Ved} {F} {Vs} {Ac} when the {Ns} are {Ved} {Av}.",
      "If the {F} is {Ved}, you end up {Ving} the {Ns} {Av}.",
      "Nobody {Vs} a {N} that {Vs} the {F}; {V} it {Av} instead.",
      "{Ving} and {Ving} the {N} {Vs} the {Ns} {Ac} and {Ac}.",
      "The {Ved} {Ns} {V} the {N} while the {F} {Vs} {Av}.",
      "Your {Ns} get {Ac} once you stop {Ving} the {N}.",
      "On my {Ns} I usually {V} the {N} first, then {V} my {N} {Av}.",
      "The {N} does not need much {N}; a good {N} is the best {N} here.",
      "It is ok to {V} the {N} if the {Ns} sound {A}.",
  }));
  return *t;
}

// ---------------------------------------------------------------------------
// The lexicon: one ranked token list per slot kind.

enum class Pick : std::uint8_t {
  kCorpus,  // the corpus distribution
  kCommon,  // Zipf over the head of the list
  kRare,    // uniform over the tail of the list
};

class TokenList {
 public:
  void add(std::string token, std::size_t lemma) {
    if (!seen_.insert(token).second) return;
    tokens_.push_back(std::move(token));
    lemmas_.push_back(lemma);
  }
  std::size_t supply() const { return tokens_.size(); }
  const std::string& token(std::size_t i) const { return tokens_[i]; }
  std::size_t lemma(std::size_t i) const { return lemmas_[i]; }

  void cut(std::size_t n) {
    n_ = std::max<std::size_t>(1, std::min(n, tokens_.size()));
    all_ = Zipf(n_, kWordZipf);
    common_ = Zipf(std::min(n_, std::max<std::size_t>(10, n_ / 10)), kWordZipf);
    rare_from_ = n_ * 3 / 10;
  }
  std::size_t size() const { return n_; }
  std::size_t draw(Rng& rng, Pick pick) const {
    switch (pick) {
      case Pick::kCommon:
        return common_.draw(rng);
      case Pick::kRare:
        return rare_from_ + rng.below(n_ - rare_from_);
      case Pick::kCorpus:
        break;
    }
    return all_.draw(rng);
  }

 private:
  std::vector<std::string> tokens_;
  std::vector<std::size_t> lemmas_;  // index into the class's lemma list
  std::unordered_set<std::string> seen_;
  std::size_t n_ = 0;
  std::size_t rare_from_ = 0;
  Zipf all_, common_;
};

std::string lower(std::string_view w) {
  std::string s(w);
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return s;
}

class Lexicon {
 public:
  // literal_templates: every template whose literal words occur in the text.
  explicit Lexicon(const std::vector<const std::vector<Template>*>& literal_templates) {
    Rng rng(kLexiconSeed);

    std::unordered_set<std::string> fixed;  // function words and template literals
    for (std::string_view w : split_words(kFunctionWords)) fixed.insert(std::string(w));
    for (const auto* group : literal_templates)
      for (const auto& tmpl : *group)
        for (const auto& token : tmpl)
          if (token.slot == Slot::kLiteral) fixed.insert(lower(token.text));
    fixed.insert("more");

    build_nouns_and_adjectives(rng);
    build_verbs(rng);

    // How often each slot kind occurs in the body text.
    std::array<double, kKinds> share{};
    double slots = 0;
    for (const auto& tmpl : content_templates())
      for (const auto& token : tmpl)
        if (token.slot != Slot::kLiteral) {
          share[kind_of(token.slot)] += 1;
          slots += 1;
        }
    for (auto& s : share) s /= slots;

    // Cut each list to share x scale tokens (or all it has), with the scale
    // that brings the whole vocabulary to its target size.
    auto sizes_at = [&](double scale) {
      std::array<std::size_t, kKinds> n{};
      for (std::size_t k = 0; k < kKinds; ++k)
        n[k] = std::min(lists_[k].supply(),
                        std::max<std::size_t>(1, static_cast<std::size_t>(share[k] * scale)));
      return n;
    };
    auto vocabulary_at = [&](const std::array<std::size_t, kKinds>& n) {
      std::unordered_set<std::string> words = fixed;
      for (std::size_t k = 0; k < kKinds; ++k)
        for (std::size_t i = 0; i < n[k]; ++i) words.insert(lists_[k].token(i));
      return words.size();
    };
    double lo = 1, hi = 1e6;
    for (int i = 0; i < 50; ++i) {
      const double mid = (lo + hi) / 2;
      (vocabulary_at(sizes_at(mid)) >= kTargetVocabulary ? hi : lo) = mid;
    }
    const auto sizes = sizes_at(hi);
    for (std::size_t k = 0; k < kKinds; ++k) lists_[k].cut(sizes[k]);
  }

  // A token of slot kind k.
  const std::string& draw(Kind k, Rng& rng, Pick pick) const {
    return lists_[k].token(lists_[k].draw(rng, pick));
  }
  // A countable noun lemma, drawn like a plural noun; for focus nouns.
  std::size_t draw_countable(Rng& rng, Pick pick) const {
    return lists_[kNounPl].lemma(lists_[kNounPl].draw(rng, pick));
  }
  const Noun& noun(std::size_t lemma) const { return nouns_[lemma]; }

 private:
  void build_nouns_and_adjectives(Rng& rng) {
    std::unordered_set<std::string> known;
    for (std::string_view entry : split_words(kNounList)) {
      Noun noun;
      if (const auto eq = entry.find('='); eq != std::string_view::npos)
        noun = {std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1))};
      else if (entry.back() == '!')
        noun = {chop_last(entry), {}};
      else
        noun = {std::string(entry), plural_of(entry)};
      if (known.insert(noun.sg).second) nouns_.push_back(std::move(noun));
    }

    std::vector<Adjective> adjectives;
    std::vector<std::string> adverbs;
    std::vector<Noun> derived_nouns;
    std::vector<Adjective> derived_adjectives;
    for (std::string_view entry : split_words(kAdjectiveList)) {
      std::size_t end = entry.size();
      while (end > 0 && std::string_view("+*~-").find(entry[end - 1]) != std::string_view::npos)
        --end;
      const std::string_view word = entry.substr(0, end), flags = entry.substr(end);
      const bool dbl = flags.find('+') != std::string_view::npos;
      const bool plain = flags.find('*') == std::string_view::npos;
      adjectives.push_back({std::string(word), plain ? comparative_of(word, dbl) : ""});
      if (flags.find('~') == std::string_view::npos) adverbs.push_back(adverb_of(word));
      if (plain && flags.find('-') == std::string_view::npos && known.insert(ness_of(word)).second)
        derived_nouns.push_back({ness_of(word), {}});
      if (plain && word.size() <= 5 && word.back() != 'y' && word.back() != 'e') {
        std::string ish(word);  // warmish, biggish
        if (dbl) ish.push_back(word.back());
        derived_adjectives.push_back({ish + "ish", ""});
      }
    }
    for (std::string_view w : split_words(kPureAdverbList)) adverbs.emplace_back(w);

    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    for (std::string_view m : split_words(kCompoundModifiers))
      for (std::string_view h : split_words(kCompoundHeads))
        if (m != h) pairs.emplace_back(m, h);
    shuffle(pairs, rng);
    for (const auto& [m, h] : pairs) {
      const std::string sg = std::string(m) + std::string(h);
      if (sg == "backside" || !known.insert(sg).second) continue;  // "bassline" is listed
      const auto head =
          std::find_if(nouns_.begin(), nouns_.end(), [h = h](const Noun& n) { return n.sg == h; });
      const std::string pl = head != nouns_.end() && !head->pl.empty() ? head->pl : plural_of(h);
      derived_nouns.push_back({sg, std::string(m) + pl});
    }
    shuffle(derived_nouns, rng);
    for (auto& n : derived_nouns) nouns_.push_back(std::move(n));
    for (std::size_t i = 0; i < nouns_.size(); ++i) {
      lists_[kNounSg].add(nouns_[i].sg, i);
      if (!nouns_[i].pl.empty()) lists_[kNounPl].add(nouns_[i].pl, i);
    }

    shuffle(derived_adjectives, rng);
    for (auto& a : derived_adjectives) adjectives.push_back(std::move(a));
    for (std::size_t i = 0; i < adjectives.size(); ++i) {
      lists_[kAdjBase].add(adjectives[i].base, i);
      if (!adjectives[i].er.empty()) lists_[kAdjComparative].add(adjectives[i].er, i);
    }
    for (std::size_t i = 0; i < adverbs.size(); ++i) lists_[kAdverb].add(adverbs[i], i);
  }

  void build_verbs(Rng& rng) {
    std::vector<Verb> verbs, prefixed;
    std::unordered_set<std::string> known;
    for (std::string_view entry : split_words(kVerbList)) {
      std::string_view flags, participle;
      if (const auto slash = entry.find('/'); slash != std::string_view::npos) {
        flags = entry.substr(slash + 1);
        entry = entry.substr(0, slash);
      }
      if (const auto colon = entry.find(':'); colon != std::string_view::npos) {
        participle = entry.substr(colon + 1);
        entry = entry.substr(0, colon);
      }
      const bool dbl = entry.back() == '+';
      if (dbl) entry.remove_suffix(1);
      Verb verb = inflect_verb(entry, dbl, participle);
      if (!known.insert(verb.base).second) continue;
      for (const char f : flags) {
        const std::string prefix = f == 'r' ? "re" : f == 'o' ? "over" : "un";
        prefixed.push_back(
            {prefix + verb.base, prefix + verb.s, prefix + verb.ed, prefix + verb.ing});
      }
      verbs.push_back(std::move(verb));
    }
    shuffle(prefixed, rng);
    for (auto& v : prefixed)
      if (known.insert(v.base).second) verbs.push_back(std::move(v));
    for (std::size_t i = 0; i < verbs.size(); ++i) {
      lists_[kVerbBase].add(verbs[i].base, i);
      lists_[kVerbThird].add(verbs[i].s, i);
      lists_[kVerbParticiple].add(verbs[i].ed, i);
      lists_[kVerbGerund].add(verbs[i].ing, i);
    }
  }

  std::vector<Noun> nouns_;
  std::array<TokenList, kKinds> lists_;
};

// ---------------------------------------------------------------------------
// Rendering.

// Appends words to a string with spaces, "a" -> "an" before a vowel sound,
// and optionally a capital at the start of each sentence.
class TextWriter {
 public:
  TextWriter(std::string& out, bool capitalize)
      : out_(out), capitalize_(capitalize), cap_next_(capitalize) {}
  void word(std::string_view w) {
    if (after_a_ && vowel_sound(w)) out_.push_back('n');
    if (!out_.empty() && out_.back() != ' ') out_.push_back(' ');
    const std::size_t at = out_.size();
    out_.append(w);
    if (cap_next_ && out_[at] >= 'a' && out_[at] <= 'z')
      out_[at] = static_cast<char>(out_[at] - 'a' + 'A');
    cap_next_ = false;
    after_a_ = w == "a" || w == "A";
    ++words_;
  }
  void punct(std::string_view p) {
    if (p.empty()) return;
    out_.append(p);
    after_a_ = false;
    if (capitalize_ && (p.back() == '.' || p.back() == '?')) cap_next_ = true;
  }
  std::size_t words() const { return words_; }

 private:
  static bool vowel_sound(std::string_view w) {
    if (w.empty()) return false;
    if (w.starts_with("hour")) return true;
    if (w[0] == 'u')
      return !(w.starts_with("uni") || w.starts_with("use") || w.starts_with("usu") ||
               w.starts_with("uti"));
    return w[0] == 'a' || w[0] == 'e' || w[0] == 'i' || w[0] == 'o';
  }

  std::string& out_;
  bool capitalize_;
  bool cap_next_;
  bool after_a_ = false;
  std::size_t words_ = 0;
};

// focus: the page's focus nouns (lemmas; empty outside pages). picks: one
// Pick per token of tmpl, or null for the corpus distribution.
void render(const Lexicon& lex, const Template& tmpl, Rng& rng, TextWriter& out,
            const std::vector<std::size_t>& focus, const Pick* picks = nullptr) {
  // {F} slots take the focus nouns in turn, so one sentence does not repeat one.
  std::size_t next_focus = focus.empty() ? 0 : rng.below(focus.size());
  for (std::size_t i = 0; i < tmpl.size(); ++i) {
    const Token& t = tmpl[i];
    const Pick pick = picks != nullptr ? picks[i] : Pick::kCorpus;
    if (t.slot == Slot::kLiteral) {
      out.word(t.text);
    } else if ((t.slot == Slot::kFocus || t.slot == Slot::kFocusPl) && !focus.empty()) {
      const Noun& n = lex.noun(focus[next_focus++ % focus.size()]);
      out.word(t.slot == Slot::kFocusPl ? n.pl : n.sg);
    } else if (is_noun(t.slot) && !focus.empty() && rng.chance(kFocusShare)) {
      const Noun& n = lex.noun(focus[rng.below(focus.size())]);
      out.word(kind_of(t.slot) == kNounPl ? n.pl : n.sg);
    } else {
      out.word(lex.draw(kind_of(t.slot), rng, pick));
    }
    out.punct(t.trail);
  }
}

template <typename Group>
const Template& any_of(const Group& group, Rng& rng) {
  return group[rng.below(group.size())];
}

std::string slugify(std::string_view text, std::size_t max_words) {
  std::string slug;
  std::size_t words = 0;
  bool pending_dash = false;
  for (const char c : text) {
    const bool lower_or_digit = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    const bool upper = c >= 'A' && c <= 'Z';
    if (lower_or_digit || upper) {
      if (pending_dash && !slug.empty()) {
        if (++words >= max_words) break;
        slug.push_back('-');
      }
      pending_dash = false;
      slug.push_back(upper ? static_cast<char>(c - 'A' + 'a') : c);
    } else {
      pending_dash = true;
    }
  }
  return slug;
}

// ---------------------------------------------------------------------------
// Creators: 200 names, picked with a Zipf(1.0) skew (a few creators write a
// large share of the pages).

constexpr std::string_view kFirstNames =
    "Kara Jonas Amara Diego Yuki Priya Tomasz Lena Mateo Aisha Felix Ines Kwame Sofia Ravi "
    "Elif Noah Mira Oskar Zainab Luca Hana Emeka Freya Tariq Nadia Bram Ximena Soren Leilani "
    "Arjun Greta Malik Chiara Kenji Ayla Rui Olga Dario Fatima Ilya Maeve Tobias Sana Joaquin";
constexpr std::string_view kLastNames =
    "Lindqvist Okafor Moreau Tanaka Haddad Novak Silva Brennan Kowalski Mensah Rossi Nakamura "
    "Varga Osei Delgado Fischer Park Andersen Costa Ibrahim Walsh Petrov Ahmed Laine Romero "
    "Schmidt Nguyen Dubois Keller Abara Sato Quinn Marsh Hale Ortiz Berg Castillo Yilmaz Kaur "
    "Reyes Vogel Adeyemi Lund Farrow Mbeki";

constexpr std::string_view kCategories[] = {"mixing",       "workflow",  "vocals",
                                            "sound-design", "drums",     "bass",
                                            "mastering",    "synthesis", "arrangement"};
constexpr std::size_t kCategoryCount = std::size(kCategories);

struct Creator {
  std::string slug, name;
};

class Creators {
 public:
  Creators() : zipf_(kCreators, kCreatorZipf) {
    std::vector<std::pair<std::string_view, std::string_view>> pairs;
    for (auto first : split_words(kFirstNames))
      for (auto last : split_words(kLastNames)) pairs.emplace_back(first, last);
    Rng rng(kLexiconSeed + 1);
    shuffle(pairs, rng);
    for (std::size_t i = 0; i < kCreators && i < pairs.size(); ++i) {
      std::string name = std::string(pairs[i].first) + " " + std::string(pairs[i].second);
      creators_.push_back({slugify(name, 8), std::move(name)});
    }
  }
  std::size_t draw(Rng& rng) const { return zipf_.draw(rng); }
  const Creator& operator[](std::size_t i) const { return creators_[i]; }

 private:
  Zipf zipf_;
  std::vector<Creator> creators_;
};

// ---------------------------------------------------------------------------
// Pages.

class PageGenerator {
 public:
  PageGenerator(const Lexicon& lex, const Creators& creators, std::uint64_t seed)
      : lex_(lex), creators_(creators), seed_(seed) {}

  static const std::vector<Template>& summaries() {
    static const auto* t = new std::vector<Template>(parse_templates({
        "How to {V} {Fs} with a {A} {N}, when to {V} the {F}, and why {Ns} {V} {Av}.",
        "A {A} approach to {Ving} the {F} so the {Ns} {V} {Ac}.",
        "Covers {Ving} {Fs}, {Ving} the {N} and {Ving} {A} {Ns} on the {F}.",
        "Why {A} {Fs} {V} the {N}, and what to {V} instead.",
        "Explains the {N}, the {F} and the {N}, with {A} {Ns} for each.",
        "Shows how a {Ved} {F} {Vs} the {N} and when to {V} it {Av}.",
    }));
    return *t;
  }
  static const std::vector<Template>& headings() {
    static const auto* t = new std::vector<Template>(parse_templates({
        "How to {V} the {F}",
        "{Ving} {A} {Ns}",
        "Why the {N} {Vs}",
        "When to {V} your {Fs}",
        "The {F} and the {N}",
        "{A} {Ns} on the {F}",
        "Getting the {N} {A}",
        "{F} {Ns} in practice",
        "What to do about {A} {Fs}",
        "Setting up the {N}",
        "Common {F} mistakes",
        "Checking the {N}",
        "A {A} {N}",
        "From {N} to {F}",
    }));
    return *t;
  }
  static const std::vector<Template>& titles() {
    static const auto* t = new std::vector<Template>(parse_templates({
        "{A} {F} for {Fs}",
        "How to {V} {A} {Fs}",
        "{Ving} the {F} on {Fs}",
        "{F} and {Fs} with {A} {Ns}",
        "A guide to {Ving} {Fs}",
        "{Fs} and {Fs}: {Ving} the {N}",
        "Getting {A} {Fs} from the {F}",
        "Why your {F} {Vs} {Av}",
        "{Ving} {Fs} without {Ving} the {F}",
        "The {A} {F} and the {N}",
    }));
    return *t;
  }

  std::string page(std::uint64_t index) const {
    Rng rng(seed_, 0x70616765 /* "page" */, index);

    // 3-6 distinct focus nouns: the page's subject and tags, and a share of
    // its noun slots.
    std::vector<std::size_t> focus;
    const std::size_t focus_count = rng.between(3, 6);
    while (focus.size() < focus_count) {
      const std::size_t n = lex_.draw_countable(rng, Pick::kCorpus);
      if (std::find(focus.begin(), focus.end(), n) == focus.end()) focus.push_back(n);
    }

    const std::size_t creator = creators_.draw(rng);
    const std::string_view category = rng.chance(0.65) ? kCategories[creator % kCategoryCount]
                                                       : kCategories[rng.below(kCategoryCount)];

    std::string title;
    TextWriter title_writer(title, true);
    render(lex_, any_of(titles(), rng), rng, title_writer, focus);

    Json tags = Json::array();
    const std::size_t tag_count = rng.between(2, std::min<std::size_t>(6, focus.size()));
    for (std::size_t i = 0; i < tag_count; ++i) {
      std::string tag = lex_.noun(focus[i]).sg;
      if (rng.chance(0.2)) tag = lex_.draw(kAdjBase, rng, Pick::kCommon) + " " + tag;
      tags.push_back(std::move(tag));
    }

    // 1-3 sentences.
    std::string summary;
    TextWriter summary_writer(summary, true);
    render(lex_, any_of(summaries(), rng), rng, summary_writer, focus);
    for (std::size_t i = rng.below(3); i > 0; --i)
      render(lex_, any_of(content_templates(), rng), rng, summary_writer, focus);

    Json sections = Json::array();
    std::vector<std::string> anchors;
    for (std::size_t s = rng.between(2, 8); s > 0; --s) {
      std::string heading;
      TextWriter heading_writer(heading, true);
      render(lex_, any_of(headings(), rng), rng, heading_writer, focus);
      std::string anchor = slugify(heading, 4);
      for (int k = 2; std::find(anchors.begin(), anchors.end(), anchor) != anchors.end(); ++k)
        anchor = slugify(heading, 4) + "-" + std::to_string(k);
      anchors.push_back(anchor);

      // 60-250 words: stop after the sentence that reaches a target of at
      // most 230; no sentence is longer than 20 words.
      std::string content;
      content.reserve(1600);
      TextWriter content_writer(content, true);
      const std::size_t target = rng.between(60, 230);
      while (content_writer.words() < target)
        render(lex_, any_of(content_templates(), rng), rng, content_writer, focus);

      Json section;
      section["anchor"] = std::move(anchor);
      section["heading"] = std::move(heading);
      section["content"] = std::move(content);
      sections.push_back(std::move(section));
    }

    Json page;
    page["slug"] = slugify(title, 6) + "-" + std::to_string(index + 1);
    page["title"] = std::move(title);
    page["creator"] = {{"slug", creators_[creator].slug}, {"name", creators_[creator].name}};
    page["topic_category"] = category;
    page["topic_tags"] = std::move(tags);
    page["summary"] = std::move(summary);
    page["sections"] = std::move(sections);
    return page.dump();
  }

 private:
  const Lexicon& lex_;
  const Creators& creators_;
  std::uint64_t seed_;
};

// ---------------------------------------------------------------------------
// Questions.

class QuestionGenerator {
 public:
  QuestionGenerator(const Lexicon& lex, const Creators& creators, std::uint64_t seed)
      : lex_(lex), creators_(creators), seed_(seed) {}

  // Bases of 3-6 words; tails and inserted adjectives bring a question to
  // its target length.
  static const std::vector<Template>& bases() {
    static const auto* t = new std::vector<Template>(parse_templates({
        "what {N} should I use",     "how do I {V} the {N}",     "how to {V} {Ns}",
        "why does my {N} sound {A}", "why is my {N} so {A}",     "which {N} is best",
        "which {N} works for {Ns}",  "should I {V} the {N}",     "should I {V} {Ns} before {Ving}",
        "can I {V} the {N}",         "can I {V} {Ns} with {Ns}", "what is a good {N}",
        "what {N} for {Ns}",         "how much {N} on {Ns}",     "how do you {V} a {A} {N}",
        "is it ok to {V} the {N}",   "why do {Ns} get {A}",      "what makes a {N} {A}",
        "how to get {A} {Ns}",       "which {Ns} should I {V}",  "how can I {V} my {N}",
        "what {N} do I need",        "why does the {N} {V}",     "when should I {V} {Ns}",
    }));
    return *t;
  }
  // Tails by length in words: [0] holds the 1-word tails, ... [3] the 4-word.
  static const std::array<std::vector<Template>, 4>& tails() {
    static const auto* t = new std::array<std::vector<Template>, 4>{
        parse_templates({"{Av}", "too", "again"}),
        parse_templates({"on {Ns}", "for {Ns}", "in {N}", "with {Ns}", "on {N}", "without {Ns}"}),
        parse_templates({
            "on my {N}",
            "in the {N}",
            "for a {N}",
            "with a {N}",
            "on the {N}",
            "in my {N}",
            "for my {Ns}",
            "without a {N}",
            "after the {N}",
            "before the {N}",
            "for {N} {Ns}",
        }),
        parse_templates({
            "when {Ving} the {N}",
            "on the {N} {N}",
            "for {A} {N} {Ns}",
            "in a {A} {N}",
            "without {Ving} the {N}",
            "on my {N} {Ns}",
        }),
    };
    return *t;
  }

  std::string question(std::uint64_t index, bool short_query) const {
    Rng rng(seed_, 0x7175657374 /* "quest" */, index);
    std::string query;
    std::size_t words = 0;
    if (short_query) {
      words = short_text(rng, query);
    } else {
      words = rng.between(6, 15);
      long_text(rng, words, query);
    }
    Json q;
    q["query"] = std::move(query);
    q["words"] = words;
    if (rng.chance(kCreatorFilterShare))
      q["creator"] = creators_[creators_.draw(rng)].slug;
    else
      q["creator"] = nullptr;
    return q.dump();
  }

 private:
  void long_text(Rng& rng, std::size_t target, std::string& out) const {
    static const std::vector<std::size_t> kNoFocus;
    for (;;) {
      Template q = any_of(bases(), rng);
      if (q.size() > target) continue;
      while (q.size() < target) {
        const std::size_t room = target - q.size();
        // One more word: an adjective before a bare noun, when there is one.
        std::vector<std::size_t> bare;
        for (std::size_t i = 0; i < q.size(); ++i)
          if (is_noun(q[i].slot) && (i == 0 || q[i - 1].slot != Slot::kAdj)) bare.push_back(i);
        if (!bare.empty() && (room == 1 || rng.chance(0.15))) {
          const std::size_t at = bare[rng.below(bare.size())];
          q.insert(q.begin() + static_cast<std::ptrdiff_t>(at), Token{Slot::kAdj, {}, {}});
          continue;
        }
        const std::size_t len = room == 1 ? 1 : rng.between(2, std::min<std::size_t>(4, room));
        const Template& tail = any_of(tails()[len - 1], rng);
        q.insert(q.end(), tail.begin(), tail.end());
      }

      // Mostly common words; 1-3 of the content slots (at most half) draw
      // rarer ones.
      std::vector<Pick> picks(q.size(), Pick::kCommon);
      std::vector<std::size_t> slots;
      for (std::size_t i = 0; i < q.size(); ++i)
        if (q[i].slot != Slot::kLiteral) slots.push_back(i);
      shuffle(slots, rng);
      const std::size_t rare = rng.between(1, std::clamp<std::size_t>(slots.size() / 2, 1, 3));
      for (std::size_t i = 0; i < rare; ++i) picks[slots[i]] = Pick::kRare;

      out.clear();
      TextWriter writer(out, false);
      render(lex_, q, rng, writer, kNoFocus, picks.data());
      if (writer.words() == target) break;  // always, as no question slot renders two words
    }
    if (rng.chance(0.25)) out.push_back('?');
  }

  // One or two words from the same vocabulary.
  std::size_t short_text(Rng& rng, std::string& out) const {
    auto pick = [&rng] { return rng.chance(0.3) ? Pick::kRare : Pick::kCommon; };
    TextWriter writer(out, false);
    if (rng.chance(0.5)) {
      const double u = rng.unit();
      writer.word(lex_.draw(u < 0.6 ? kNounSg : u < 0.8 ? kVerbGerund : kAdjBase, rng, pick()));
      return 1;
    }
    static constexpr std::pair<Kind, Kind> kShapes[] = {
        {kAdjBase, kNounSg}, {kNounSg, kNounSg},     {kNounSg, kNounPl},
        {kAdjBase, kNounPl}, {kVerbGerund, kNounPl}, {kVerbBase, kNounSg},
    };
    const auto [first_kind, second_kind] = kShapes[rng.below(std::size(kShapes))];
    const std::string first = lex_.draw(first_kind, rng, pick());
    std::string second = lex_.draw(second_kind, rng, pick());
    while (second == first) second = lex_.draw(second_kind, rng, pick());
    writer.word(first);
    writer.word(second);
    return 2;
  }

  const Lexicon& lex_;
  const Creators& creators_;
  std::uint64_t seed_;
};

// ---------------------------------------------------------------------------

int usage() {
  std::fputs(
      "usage: flat_corpus pages N [SEED]\n"
      "       flat_corpus questions N [SEED] [--short]\n",
      stderr);
  return 2;
}

bool parse_u64(std::string_view s, std::uint64_t& value) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string_view> args;
  bool short_query = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--short")
      short_query = true;
    else
      args.push_back(a);
  }
  if (args.size() < 2 || args.size() > 3) return usage();
  const bool pages = args[0] == "pages";
  if ((!pages && args[0] != "questions") || (pages && short_query)) return usage();
  std::uint64_t count = 0;
  std::uint64_t seed = 1;
  if (!parse_u64(args[1], count)) return usage();
  if (args.size() == 3 && !parse_u64(args[2], seed)) return usage();

  static char buffer[1 << 20];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);

  // The vocabulary counts the literals of the templates that reach pages.
  const Lexicon lexicon({&content_templates(), &PageGenerator::summaries(),
                         &PageGenerator::headings(), &PageGenerator::titles()});
  const Creators creators;
  std::string line;
  if (pages) {
    const PageGenerator gen(lexicon, creators, seed);
    for (std::uint64_t i = 0; i < count; ++i) {
      line = gen.page(i);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
  } else {
    const QuestionGenerator gen(lexicon, creators, seed);
    for (std::uint64_t i = 0; i < count; ++i) {
      line = gen.question(i, short_query);
      line.push_back('\n');
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
  }
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    std::perror("flat_corpus: write");
    return 1;
  }
  return 0;
}
