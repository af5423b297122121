"""Insults and threats in a requester's mail, in English, Ukrainian and Russian. Pure.

A compact list of word stems, each of one kind, and a score: a mail is abusive when its score
reaches the threshold (2 by default). What counts is a word aimed at someone: near "you", "ваш",
"вы" (or "dear …", "гей, …", "эй, …"), an insult counts double, and a threat counts only so aimed.
So "the printer is killing me", "kill the process", "a stupid question" and "burn a DVD" stay
ordinary mail, while "you morons", "I will smash your office" and "я вас уб'ю" do not. Swear words
count as insults, so two of them together are abusive even when nobody is named.

The kinds, with their weight alone and aimed:

* ``insult``  1 alone, 2 with someone addressed within four words (either side);
* ``mild``    ½ alone, 2 with someone addressed within three words ("stupid", "тупі");
* ``threat``  1 alone, 2 aimed within three words (the Ukrainian and Russian first-person future:
  "уб'ю", "спалю", "разнесу", which are threats by their form);
* ``verb``    ½ alone, 2 with someone addressed within three words *after* it (English "kill",
  "smash", "burn": "kill you", "burn your office", but not "can you break the PDF");
* ``aimed``   2: aimed by its form ("пошкодуєте", "пожалеете", "make you pay", "за це заплатите").

A stem matches the words it begins (``idiot`` matches "idiots"); an entry of several words matches
them in a row, the last one as a stem. Words are lowercased, ё read as е, apostrophes dropped
("уб'ю" is "убю"). The verdict names the stems that hit, never the mail's own words.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

KINDS = {"insult": (1.0, 1.0, 4, False), "mild": (0.5, 1.5, 3, False), "threat": (1.0, 1.0, 3, False),
         "verb": (0.5, 1.5, 3, True), "aimed": (2.0, 0.0, 0, False)}
"""kind → (weight alone, added when aimed, how many words away the addressee may be, only after it)."""
THRESHOLD = 2.0
_WORD = re.compile(r"[^\W\d_]+")
_APOSTROPHES = re.compile(r"(?<=[^\W\d_])['’ʼ](?=[^\W\d_])")


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Who a mail speaks to: second person (a prefix when it ends with "*"), and the words that call on
#: someone ("dear …", "hey …", "listen, …").
ADDRESSEES = _words("""you your* youre yourself* u ya dear hey listen
    ви вас вам вами ваш* ти тебе тобі тобою твій тво* шановн* гей слухайте
    вы ты тебя тобой уважаем* эй слушайте""")
_EXACT = frozenset(a for a in ADDRESSEES if not a.endswith("*"))
_PREFIXES = tuple(a[:-1] for a in ADDRESSEES if a.endswith("*"))

# The built-in stems by kind, per language on its own line.
BUILT_IN: dict[str, tuple[str, ...]] = {
    "insult": _words("""idiot moron imbecil cretin retard scum bastard asshole arsehole bitch fuck motherf
        dickhead dumbass jackass wanker twat cunt brainless
        ідіот дебіл кретин придур недоум виродк виродок покидьк покидьок мудак мудил довбн довбень нікчем
        бездар безмозк сволот гівн бляд бляха хуй пизд єбан їбан засранц
        идиот дебил придур недоумк недоумок ублюд мразь подонк подонок ничтож никчем бездар безмозгл
        сволоч говн блять бляд блин хуй хуе пизд ебан еблан засранц козл урод"""),
    "mild": _words("""stupid dumb useless worthless incompetent pathetic clown lazy loser deaf
        тупі тупий тупа тупе тупих тупим тупоголов найтуп жалюгід ледач клоун дурн глух
        тупой тупая тупые тупых тупым тупое тупорыл жалк ленив клоун дурак глух"""),
    "threat": _words("""убю вбю рознесу спалю побю покалічу розібю переламаю знищу
        убью разнесу сожгу изобью покалечу разобью переломаю уничтожу"""),
    "verb": _words("kill smash burn beat hurt break destroy stab strangle"),
    "aimed": _words("пошкодуєте пожалеете"),
}
#: Entries of several words, by kind.
PHRASES: dict[str, tuple[str, ...]] = {
    "insult": ("go to hell", "piss off", "shut up", "fuck off", "screw you", "в дупу", "ідіть до біса",
               "відчепіться", "замовкніть", "в задницу", "к черту", "отвалите", "заткнитесь"),
    "aimed": ("make you pay", "you will regret", "youll regret", "за це заплатите", "за это заплатите"),
}


@dataclass(frozen=True)
class Lexicon:
    """The stems by kind (built-in plus the configured ones) and the score that makes mail abusive."""

    stems: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(BUILT_IN))
    phrases: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(PHRASES))
    threshold: float = THRESHOLD

    @classmethod
    def with_extra(cls, insults: Iterable[str] = (), threats: Iterable[str] = (),
                   threshold: float = THRESHOLD) -> Lexicon:
        """The built-in list with more insults and threats (one word each is a stem, several a phrase)."""
        stems, phrases = dict(BUILT_IN), dict(PHRASES)
        for kind, extra in (("insult", insults), ("threat", threats)):
            # A stem has at least three letters: shorter ones would match half the words there are.
            entries = [e for e in map(normalise, extra) if len(e) >= 3]
            stems[kind] = (*stems.get(kind, ()), *(e for e in entries if " " not in e))
            phrases[kind] = (*phrases.get(kind, ()), *(e for e in entries if " " in e))
        return cls(stems, phrases, threshold)

    @functools.cached_property
    def by_stem(self) -> dict[str, str]:
        """stem → kind: a word is looked up by its beginnings, not against every stem."""
        return {stem: kind for kind, stems in self.stems.items() for stem in stems}

    @functools.cached_property
    def heads(self) -> frozenset[str]:
        """The first three letters of every stem."""
        return frozenset(s[:3] for s in self.by_stem)

    @functools.cached_property
    def stem_sizes(self) -> tuple[int, ...]:
        """The lengths stems have, longest first: the only beginnings of a word worth looking up."""
        return tuple(sorted({len(s) for s in self.by_stem}, reverse=True))

    @functools.cached_property
    def by_first_word(self) -> dict[str, list[tuple[str, tuple[str, ...]]]]:
        """first word → (kind, words) of the phrases starting with it."""
        index: dict[str, list[tuple[str, tuple[str, ...]]]] = {}
        for kind, entries in self.phrases.items():
            for entry in entries:
                parts = tuple(entry.split())
                index.setdefault(parts[0], []).append((kind, parts))
        return index


@dataclass(frozen=True)
class AbuseVerdict:
    """Whether the text is abusive, its score and the stems that hit (kind:stem), strongest first."""

    abusive: bool
    score: float
    hits: tuple[str, ...] = ()


def normalise(text: str) -> str:
    """Lowercase words, ё as е, apostrophes dropped, single spaces."""
    return " ".join(words(text))


def words(text: str) -> list[str]:
    """The words of `text` as the lexicon reads them."""
    return _WORD.findall(_APOSTROPHES.sub("", text.lower()).replace("ё", "е"))


def classify(text: str, lexicon: Lexicon) -> AbuseVerdict:
    """How abusive `text` (subject and body) is."""
    tokens = words(text)
    addressed = [w in _EXACT or w.startswith(_PREFIXES) for w in tokens]
    found: list[tuple[float, str]] = []
    for index, kind, entry, length in _hits(tokens, lexicon):
        alone, aimed, reach, after_only = KINDS[kind]
        start = index + length if after_only else max(0, index - reach)
        window = addressed[start:index + length + reach]
        found.append((alone + (aimed if any(window) else 0.0), f"{kind}:{entry}"))
    score = sum(weight for weight, _ in found)
    hits = tuple(dict.fromkeys(name for _, name in sorted(found, key=lambda f: -f[0])))
    return AbuseVerdict(score >= lexicon.threshold, score, hits)


def _hits(tokens: Sequence[str], lexicon: Lexicon) -> Iterable[tuple[int, str, str, int]]:
    """(position, kind, entry, words long) of each entry that matches, at most one per word; a phrase
    before the words it is made of, the longest stem of a word before its shorter ones."""
    taken: set[int] = set()
    phrases = lexicon.by_first_word
    for i, token in enumerate(tokens):
        for kind, parts in phrases.get(token, ()):
            end = i + len(parts)
            if end <= len(tokens) and tokens[i + 1:end - 1] == list(parts[1:-1]) and \
                    tokens[end - 1].startswith(parts[-1]) and not taken & set(range(i, end)):
                taken.update(range(i, end))
                yield i, kind, " ".join(parts), len(parts)
    heads = lexicon.heads
    for i, token in enumerate(tokens):
        if i in taken or token[:3] not in heads:  # most words begin like no stem at all
            continue
        for size in lexicon.stem_sizes:
            found = lexicon.by_stem.get(token[:size]) if size <= len(token) else None
            if found is not None:
                yield i, found, token[:size], 1
                break
