"""Words for knowledge-base search: tokens, a light en/uk/ru stemmer, stop words, scores. Pure.

Both the articles and the requests are reduced to stems here, so the database's full-text index
only ever compares plain words (FTS5 with ``unicode61``, PostgreSQL's ``simple`` configuration)
and SQLite and PostgreSQL rank the same way. The stemmer strips one inflectional suffix (after a
reflexive ``-ся``/``-сь``) from a fixed list, longest first, keeping at least three letters (four
in Cyrillic): crude next to Snowball, but "працює"/"працювати", "друкує"/"друкувати" and
"printing"/"printer" meet, and a wrong merge costs at most a weak suggestion, which the relevance
threshold then drops.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

LANGUAGES = ("en", "uk", "ru")
MIN_STEM = 3
#: Cyrillic stems keep four letters, so "печать" loses only its "ь" rather than a verb's "-ать".
MIN_STEM_CYRILLIC = 4
_WORD = re.compile(r"[^\W_]+(?:['’ʼ][^\W_]+)*")
_CYRILLIC = re.compile(r"[а-яёіїєґ]")
_LATIN = re.compile(r"[a-z]")
_UK_ONLY = re.compile(r"[іїєґ]")
_RU_ONLY = re.compile(r"[ыэъё]")

# Frequent words only one of the two languages has: short Cyrillic requests often lack the letters
# that tell them apart ("Не могу подключиться к VPN").
_UK_WORDS = frozenset({"що", "як", "це", "із", "мене", "мені", "немає", "можу", "будь", "ласка", "вітаю",
                       "працює", "він", "вона", "або", "якщо", "вже", "коли", "чому", "усі", "та", "й",
                       "мій", "наша", "також", "сьогодні", "потрібно", "треба", "зробити", "друкує",
                       "дякую", "привіт", "прошу", "увійти", "пошта", "пошту", "компютер"})
_RU_WORDS = frozenset({"что", "как", "это", "из", "меня", "мне", "нет", "могу", "пожалуйста", "здравствуйте",
                       "работает", "он", "она", "или", "если", "уже", "когда", "почему", "все", "при", "к",
                       "мой", "также", "сегодня", "нужно", "надо", "сделать", "печатает", "спасибо",
                       "привет", "добрый", "войти", "почта", "почту", "компьютер"})

_EN_SUFFIXES = ("ations", "ation", "ions", "ion", "ings", "ing", "ers", "er", "ies", "ied", "ed", "es", "ly",
                "s")
_UK_SUFFIXES = (
    "ювання", "ювати", "увати", "ували", "ювали", "увала", "ювала", "ування",
    "ання", "ення", "іння", "ують", "юють", "ував", "ював", "ного", "ному", "ними",
    "ати", "ити", "іти", "яти", "ути", "ала", "али", "ало", "ила", "или", "ило", "ова", "ове", "ові",
    "ого", "ому", "ими", "іми", "ній", "ний", "ною", "ної", "ать", "ять", "уть", "ють", "ить",
    "ує", "ює", "ає", "яє", "ий", "ій", "ої", "ою", "ею", "ах", "ях", "ам", "ям", "ом", "ем", "ів", "їв",
    "ав", "ив",
    "а", "я", "у", "ю", "о", "е", "і", "и", "ї", "й", "ь", "є",
)
_RU_SUFFIXES = (
    "ования", "ование", "ировать", "овать", "евать",
    "ового", "овому", "овыми", "овый", "овая", "овое", "овые",
    "ение", "ения", "ению", "ением", "ание", "ания", "анию",
    "ает", "яет", "ают", "яют", "ует", "уют", "ить", "ать", "ять", "еть", "уть", "ешь", "ишь",
    "ала", "али", "ало", "ила", "или", "ило", "ого", "ему", "ому", "ими", "ыми", "ая", "яя",
    "ой", "ый", "ий", "ое", "ее", "ые", "ие", "ую", "юю", "ом", "ем", "ам", "ям", "ах", "ях", "ов", "ев",
    "ей", "ью", "ит", "ет", "ут", "ют", "ат", "ят", "ал", "ил", "ае", "яе", "уе",
    "а", "я", "у", "ю", "о", "е", "ы", "и", "й", "ь",
)
_REFLEXIVE = ("ться", "ся", "сь")

def _set(text: str) -> frozenset[str]:
    """The whitespace-separated words of `text` as a set (word lists read better as text)."""
    return frozenset(text.split())


STOP_WORDS = {
    "en": _set("""a an and are as at be been but by can cannot can't could do does doesn't don't for from
        get got has have hello hi how i i'm if in is isn't it it's me my no not of on or our
        please so that the there this to too was we what when which why will with won't you your
        thanks thank dear regards help need any anymore again still just some all"""),
    "uk": _set("""а або але без би був була було були в вам вас ви від вже все всі для до добрий день
        доброго дякую є ж з за і й із їх коли мене мені ми мій моя моє мої на нам нас не немає ні
        но ну о по при про та так там те тим то тобто у уже це цей ця чи що щоб як який яка будь
        ласка вітаю привіт знову досі ще"""),
    "ru": _set("""а без бы был была было были в вам вас вы да для до добрый день доброго же за и из или их к
        как когда ко меня мне мы мой моя моё мои на нам нас не нет ни но ну о об от по при про с
        со спасибо так там те тем то у уже что чтобы это этот эта я пожалуйста здравствуйте привет
        снова опять всё все ещё еще"""),
}


_FOLD = str.maketrans({"'": None, "’": None, "ʼ": None, "ё": "е"})


def words(text: str) -> list[str]:
    """The words of `text`, lowercased, apostrophes removed, ё as е."""
    return [w.translate(_FOLD) for w in _WORD.findall(text.lower())]


def guess_language(text: str, default: str = "en", tie: str = "uk") -> str:
    """uk or ru when most letters are Cyrillic (told apart by letters only one of them has and by
    frequent words only one of them uses), else en when the text has Latin words, else `default`.
    Cyrillic text with nothing to tell the two apart is `default` when that is uk or ru, else `tie`."""
    lower = text.lower()
    cyrillic = len(_CYRILLIC.findall(lower))
    latin = len(_LATIN.findall(lower))
    if cyrillic and cyrillic >= latin:
        tokens = words(lower)
        uk = len(_UK_ONLY.findall(lower)) + 2 * sum(w in _UK_WORDS for w in tokens)
        ru = len(_RU_ONLY.findall(lower)) + 2 * sum(w in _RU_WORDS for w in tokens)
        if uk != ru:
            return "uk" if uk > ru else "ru"
        return default if default in ("uk", "ru") else tie
    return "en" if latin else default


def stem(word: str, language: str) -> str:
    """The stem of one lowercased `word`; Latin words are stemmed as English in any language."""
    if not _CYRILLIC.search(word):
        return _strip(word, _EN_SUFFIXES, undouble=True)
    suffixes = _RU_SUFFIXES if language == "ru" else _UK_SUFFIXES
    for reflexive in _REFLEXIVE:
        if word.endswith(reflexive) and len(word) - len(reflexive) >= MIN_STEM_CYRILLIC:
            word = word[: -len(reflexive)]
            break
    return _strip(word, suffixes, undouble=False, keep=MIN_STEM_CYRILLIC)


def _strip(word: str, suffixes: Iterable[str], undouble: bool, keep: int = MIN_STEM) -> str:
    for suffix in sorted(suffixes, key=len, reverse=True):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            word = word[: -len(suffix)]
            break
    # "resetting" → "resett" → "reset": English doubles a final consonant before -ing/-ed/-er.
    if undouble and len(word) > MIN_STEM + 1 and word[-1] == word[-2] and word[-1] not in "aeiouls":
        word = word[:-1]
    return word


def stems(text: str, language: str) -> list[str]:
    """Stems of the words of `text` that carry meaning, in order, repeats kept."""
    stop = STOP_WORDS.get(language, frozenset()) | STOP_WORDS["en"]
    out = []
    for w in words(text):
        if w in stop or len(w) < 2 or w.isdigit():
            continue
        s = stem(w, language)
        if s not in stop:
            out.append(s)
    return out


def query_terms(subject: str, text: str, language: str, limit: int = 40) -> tuple[str, ...]:
    """The distinct stems a new request is searched by: the subject's first, then the body's
    opening (long pasted logs or quotes say little about what the request is)."""
    seen: dict[str, None] = {}
    for s in (*stems(subject, language), *stems(text[:2000], language)):
        seen.setdefault(s, None)
    return tuple(seen)[:limit]


@dataclass(frozen=True)
class DocTerms:
    """An article as the scorer sees it: stems of its title, its tags and its body."""

    title: frozenset[str]
    tags: frozenset[str]
    body: frozenset[str]


def score(query: Iterable[str], doc: DocTerms) -> float:
    """How well an article matches a request, from 0 to 1.

    Half is how much of the article's title the request names (titles are short and say what the
    article is about), a quarter the tags it names (two are enough), a quarter the body words it
    shares (four are enough). A body-only match of common verbs stays under any sane threshold.
    """
    q = frozenset(query)
    if not q or not doc.title:
        return 0.0
    title = len(q & doc.title) / len(doc.title)
    tags = min(1.0, len(q & doc.tags) / 2)
    body = min(1.0, len(q & doc.body) / 4)
    return round(0.5 * title + 0.25 * tags + 0.25 * body, 4)


def relevant(scored: Iterable[tuple[str, float]], min_score: float, limit: int) -> list[str]:
    """The keys of the best `limit` matches at or above `min_score`, best first (ties by key)."""
    ranked = sorted((item for item in scored if item[1] >= min_score), key=lambda i: (-i[1], i[0]))
    return [key for key, _ in ranked[:limit]]
