"""Where the mechanism map comes from: the four hip-pain articles (the product's brief) and the research the
domain notes graded. Cited by title, outlet and expert; the text of the map paraphrases, never quotes.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    key: str
    citation: str  # how it is shown to a runner
    kind: str  # "article" (the brief) or "research"

    def to_dict(self) -> dict[str, str]:
        return {"key": self.key, "citation": self.citation, "kind": self.kind}


ARTICLES = {
    "iliacus": Source(
        "iliacus",
        "Runner's World, on the iliacus muscle and runners' hip pain (Christine Koth, MPT; Jessica Warneke)",
        "article",
    ),
    "five_causes": Source(
        "five_causes",
        "Runner's World UK, the five most common causes of hip pain in runners (Dr Bruce Paton, consultant "
        "physiotherapist)",
        "article",
    ),
    "openfit": Source(
        "openfit",
        "Openfit, 'Hip Pain from Running: Why It Happens and How to Prevent It' (Daniel Fleck, PT, DPT, OCS)",
        "article",
    ),
    "runners_hip": Source(
        "runners_hip", "'Fix Runner's Hip: Expert Relief & Recovery Tips' (no named expert)", "article"
    ),
}

RESEARCH = {
    "bramah2018": Source(
        "bramah2018", "Bramah et al. 2018, Am J Sports Med 46:3023 (retrospective, 108 runners)", "research"
    ),
    "bramah2019": Source(
        "bramah2019", "Bramah et al. 2019, Am J Sports Med 47:3406 (cadence retraining case series)", "research"
    ),
    "burnet2009": Source("burnet2009", "Burnet & Pidcoe 2009, J Sports Sci Med 8:284", "research"),
    "jat2020": Source("jat2020", "J Athl Train 2020 55(12):1270 (fatiguing run, 38 runners)", "research"),
    "foch2020": Source("foch2020", "Foch, Aubol & Milner 2020, Gait Posture 77:64", "research"),
    "grimaldi2015": Source(
        "grimaldi2015", "Grimaldi et al. 2015, Sports Med 45:1107 (gluteal tendinopathy)", "research"
    ),
    "mellor2018": Source(
        "mellor2018", "Mellor et al. 2018, BMJ 361:k1662 (education + exercise for gluteal tendinopathy)", "research"
    ),
    "selkowitz2013": Source(
        "selkowitz2013",
        "Selkowitz et al. 2013, J Orthop Sports Phys Ther 43:54 (gluteal vs TFL activation by exercise)",
        "research",
    ),
    "napier2018": Source(
        "napier2018", "Napier et al. 2018 (prospective, 65 female runners; peak braking force)", "research"
    ),
    "lieberman2015": Source("lieberman2015", "Lieberman et al. 2015, J Exp Biol 218:3406", "research"),
    "heiderscheit2011": Source(
        "heiderscheit2011", "Heiderscheit et al. 2011, Med Sci Sports Exerc 43:296 (+5-10 % step rate)", "research"
    ),
    "anderson2022": Source(
        "anderson2022", "Anderson et al. 2022, Sports Med Open 8:112 (meta-analysis of step-rate changes)", "research"
    ),
    "davis2016": Source("davis2016", "Davis et al. 2016, Br J Sports Med 50:887 (impact loading)", "research"),
    "kiernan2023": Source("kiernan2023", "Kiernan et al. 2023, Sensors 23:8719 (IMU estimates of loading)", "research"),
    "watari2016": Source(
        "watari2016", "Watari et al. 2016, J Appl Biomech 32:306 (torso vertical oscillation)", "research"
    ),
    "schache2000": Source(
        "schache2000", "Schache et al. 2000, Br J Sports Med 34:279 (pelvic tilt vs hip flexor flexibility)", "research"
    ),
    "pohl": Source(
        "pohl", "Pohl, University of Kentucky MS thesis (hip flexor stretching and running tilt)", "research"
    ),
    "malisoux2024": Source(
        "malisoux2024", "Malisoux et al. 2024, BMJ Open Sport Exerc Med 10:e001787 (836 runners)", "research"
    ),
    "nielsen2014": Source(
        "nielsen2014", "Nielsen et al. 2014, J Orthop Sports Phys Ther (874 novice runners)", "research"
    ),
    "buist2008": Source("buist2008", "Buist et al. 2008, Am J Sports Med 36:33 (10 % rule trial)", "research"),
    "robertson2017": Source(
        "robertson2017", "Robertson & Wood 2017 (femoral neck stress fractures, review)", "research"
    ),
    "wada2020": Source(
        "wada2020", "Wada et al. 2020, Proceedings 49:10 (lower-back IMU angles vs motion capture)", "research"
    ),
}

SOURCES = {**ARTICLES, **RESEARCH}


def cite(*keys: str) -> tuple[Source, ...]:
    return tuple(SOURCES[k] for k in keys)
