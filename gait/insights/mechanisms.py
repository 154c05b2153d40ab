"""The mechanism map as data: what the hip-pain articles claim, how it shows (or could show) in a sacral IMU,
the rule gait applies, how strong the evidence is, what to do, and what to watch out for.

Evidence grades (from the domain notes, section 4): **A** prospective or randomised support; **B** consistent
cross-sectional or lab-manipulation evidence; **C** mixed or weak; **D** clinical opinion or mechanistic
speculation. All wording here paraphrases the sources; nothing is quoted.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from gait.insights.load import SPIKE
from gait.insights.rules import (
    Drift,
    LoadSpike,
    Missing,
    Population,
    Requires,
    Rule,
    Severity,
    VsBaseline,
    check_fields,
    describe,
)
from gait.insights.sources import Source, cite

NOT_A_DIAGNOSIS = (
    "gait estimates movement from one body-worn sensor. It is not a medical device and does not diagnose; a "
    "finding says a pattern is associated with a problem in research or clinical experience, not that you have it."
)


#: per side, for per-side findings; twice that of running overall before any pattern is looked for
MIN_SIDED_STEPS = 20
MIN_RUNNING_STEPS = 2 * MIN_SIDED_STEPS
#: pelvic drop rising through a run by this much (deg) is worth a look, and makes a high drop an act
DRIFT_WATCH_DEG = 1.5
#: how settled a baseline is: BASE + PER_RUN per baseline run, at most MAX (multiplies baseline findings' confidence)
BASELINE_WEIGHT_BASE, BASELINE_WEIGHT_PER_RUN, BASELINE_WEIGHT_MAX = 0.5, 0.06, 0.95

#: how far each measurement can be trusted (0-1), a judgement from the validation in docs/accuracy.md
MEASUREMENT_CONFIDENCE = {
    "pelvic_drop_deg": 0.8,
    "braking_dv_mps": 0.6,
    "cadence_spm": 0.95,
    "impact_g": 0.5,
    "vertical_oscillation_cm": 0.6,
    "contact_time_ms": 0.7,
    "pelvic_rotation_range_deg": 0.3,
    "pelvic_tilt_range_deg": 0.4,
    "left_right_asymmetry": 0.6,
    "weekly_load": 0.9,
}


@dataclass(frozen=True)
class Mechanism:
    id: str
    title: str
    claim: str  # what the articles say, paraphrased, naming who says it
    plain_words: str  # the mechanism for a runner, in plain words
    signals: tuple[str, ...]  # gait metrics it relates to
    rules: tuple[Rule, ...]  # when gait raises a finding: thresholds over run-record fields, applied in order
    rule_note: str  # what the thresholds alone do not say (why there is no population cut-off, ...)
    evidence_grade: str  # A / B / C / D (or a range like "B/C")
    evidence: str  # what the research says, including evidence against
    sources: tuple[Source, ...]
    actions: tuple[str, ...]  # suggested actions and exercises
    caveats: tuple[str, ...]
    red_flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for rule in self.rules:
            check_fields(rule)

    @property
    def rule(self) -> str:
        """The rule in words, generated from the thresholds ``gait.insights.findings`` applies."""
        return describe(self.rules, self.rule_note)

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "claim": self.claim,
            "plain_words": self.plain_words,
            "signals": list(self.signals),
            "rule": self.rule,
            "rules": [{"kind": type(r).__name__, **dataclasses.asdict(r)} for r in self.rules],
            "evidence_grade": self.evidence_grade,
            "evidence": self.evidence,
            "sources": [s.to_dict() for s in self.sources],
            "actions": list(self.actions),
            "caveats": list(self.caveats),
            "red_flags": list(self.red_flags),
        }


RED_FLAGS = (
    "Pain when resting, or pain that wakes you at night.",
    "Grinding, clicking or popping in the hip, or sharp pain that shoots or spreads.",
    "Deep groin pain when you put weight on the leg (walking or even standing): a stress fracture of the femoral "
    "neck has to be ruled out before any more running.",
    "Pain that keeps getting more frequent or stronger, or that has not eased after 6-8 weeks of sensible "
    "strength and mobility work.",
)

MECHANISMS: tuple[Mechanism, ...] = (
    Mechanism(
        id="gluteus_medius_pelvic_drop",
        title="Pelvic drop and the gluteus medius",
        claim=(
            "Dr Bruce Paton (Runner's World UK) links a weak gluteus medius to the pelvis tipping during stance and "
            "to iliotibial band trouble and pain over the outside of the hip; the 'Fix Runner's Hip' article reads "
            "the opposite hip dipping in stance as a sign of that weakness, with the hip flexors and ITB then "
            "straining to hold the pelvis."
        ),
        plain_words=(
            "While one foot is on the ground, the hip muscles on that side (mainly the gluteus medius) keep the "
            "other side of the pelvis from dropping. A larger drop means more hip adduction, which compresses the "
            "gluteal tendons under the iliotibial band on the outside of the hip."
        ),
        signals=("pelvic_drop_deg",),
        rules=(
            Requires(
                "gyroscope",
                Missing(
                    "not_enough_data",
                    "No gyroscope in this recording: pelvic angles cannot be measured.",
                    "Use a sensor with a gyroscope to follow pelvic drop.",
                ),
            ),
            Requires(
                "pelvis_placement",
                Missing(
                    "not_enough_data",
                    "Pelvic drop not measured: {reason}.",
                    "Wear the sensor in a belt at the sacrum to follow pelvic drop.",
                    reason_of="pelvic_drop_deg",
                    default_reason="placement",
                ),
            ),
            VsBaseline(
                "pelvic_drop_{side}_deg",
                id="{side}",
                title="More pelvic drop in {side} stance than usual",
                evidence="{Side}-stance pelvic drop {value:.1f} deg vs your baseline {mean:.1f} ± {band:.1f} deg "
                "({runs} runs){rising}.",
                label="pelvic drop",
                confidence=MEASUREMENT_CONFIDENCE["pelvic_drop_deg"],
                at_least=1.0,
                act_at=2.5,
                act_if_rising=("pelvic_drop_{side}_drift_deg", DRIFT_WATCH_DEG),
                rising=", rising {change:.1f} deg from the first to the last fifth of the run",
                min_steps=("steps_{side}", MIN_SIDED_STEPS),
                missing=Missing(
                    "{side}.not_enough_data",
                    "Only {steps} {side}-stance steps with a confident side label.",
                    "Longer steady running helps the left/right labelling.",
                ),
            ),
        ),
        rule_note=(
            "No population threshold: the often-quoted 5 deg is a 2-D video folklore value, not a validated cut-off, "
            "and gait's drop is measured from initial contact."
        ),
        evidence_grade="B",
        evidence=(
            "Injured runners show more contralateral pelvic drop (each extra degree came with ~80 % higher odds of "
            "being in the injured group, retrospective). That drop drives gluteal tendinopathy is mechanistic (C). "
            "Against the 'weakness' story: isometric gluteus medius strength did not predict drop during a "
            "30-minute run, and strengthening alone does not change running mechanics."
        ),
        sources=cite(
            "five_causes",
            "runners_hip",
            "bramah2018",
            "grimaldi2015",
            "burnet2009",
            "mellor2018",
            "selkowitz2013",
            "bramah2019",
        ),
        actions=(
            "Try a cadence 5-10 % above your usual with a metronome: in a retraining study drop fell by about 3 deg.",
            "Closed-chain hip abduction (Paton): stand on one leg, let the free side of the pelvis sink, then lift it "
            "level using the standing side's glutes.",
            "Clamshells, glute bridges and sideways band walks (low TFL, high gluteal activity); later single-leg "
            "deadlifts, split squats and step-downs for control while the hip takes load.",
            "For pain on the outside of the hip: load management plus exercise did better than an injection or "
            "waiting in a randomised trial; avoid lying on that side and long sitting that compresses the tendons.",
        ),
        caveats=(
            "A single sacral sensor reads pelvic angles to a few degrees; group differences are only 2-4 deg, so "
            "read drop as a trend for you, with the same sensor placement and pace.",
            "Drop is relative: it is measured from initial contact, not from a standing posture.",
        ),
        red_flags=RED_FLAGS[:2],
    ),
    Mechanism(
        id="drop_fatigue_drift",
        title="Pelvic drop growing through a long run",
        claim=(
            "Paton (Runner's World UK) describes the gluteus medius tiring on long runs so that the tensor fasciae "
            "latae takes over as hip abductor and pulls the iliotibial band tight."
        ),
        plain_words=(
            "If the hip abductors tire, the pelvis drops further late in a run. Watching the drop from the first "
            "to the last part of a run shows whether that happens to you."
        ),
        signals=("pelvic_drop_deg", "drift"),
        rules=(
            Drift(
                "pelvic_drop_{side}_drift_deg",
                id="{side}",
                title="Pelvic drop grew through the run ({side} stance)",
                evidence="{Side}-stance pelvic drop rose by {change:.1f} deg from the first to the last fifth of this "
                "{minutes:.0f}-minute run.",
                label="pelvic drop",
                confidence=MEASUREMENT_CONFIDENCE["pelvic_drop_deg"],
                watch_at=DRIFT_WATCH_DEG,
                act_at=3.0,
            ),
        ),
        rule_note="No baseline is needed: the run is compared with its own start.",
        evidence_grade="B/D",
        evidence=(
            "A fatiguing run increases hip adduction (B). Runners with ITB syndrome lost gluteus medius strength "
            "faster (C). That the TFL then takes over and tightens the ITB is a hypothesis (D). Against: women "
            "with previous ITB syndrome showed no change over 30 minutes."
        ),
        sources=cite("five_causes", "jat2020", "foch2020", "selkowitz2013"),
        actions=(
            "Use a cadence cue in the late part of long runs.",
            "Endurance work for the hip abductors: high-repetition side-lying abduction, band side-steps, bridges.",
            "Build long-run distance gradually.",
        ),
        caveats=("Drift is confounded by pace, hills and terrain: compare runs at a steady pace on similar ground.",),
    ),
    Mechanism(
        id="overstride_braking",
        title="Overstriding, braking and cadence",
        claim=(
            "The 'Fix Runner's Hip' article describes a foot landing far ahead of the body acting as a brake that "
            "sends force up into the hip, and recommends focusing on rhythm so the foot lands under the body; "
            "Daniel Fleck (Openfit) names overstriding among what a gait analysis should catch."
        ),
        plain_words=(
            "Landing with the foot well ahead of the hips makes each step brake harder: the body loses more forward "
            "speed per step. A slightly quicker cadence shortens the step and brings the foot closer under you."
        ),
        signals=("braking_dv_mps", "braking_peak_g", "cadence_spm"),
        rules=(
            VsBaseline(
                "braking_dv_mps",
                id="braking",
                title="More braking per step than usual",
                evidence="Forward speed lost per step {value:.2f} m/s vs your baseline {mean:.2f} m/s ({pct:+.0f} %), "
                "cadence {cadence:.1f} spm.",
                label="braking (forward speed lost per step)",
                confidence=MEASUREMENT_CONFIDENCE["braking_dv_mps"],
                at_least_pct=10.0,
                act_above_pct=25.0,
                missing=Missing(
                    "braking.not_enough_data",
                    "Braking not measured: {reason}.",
                    "Use a sensor with a gyroscope to follow braking.",
                    reason_of="braking_dv_mps",
                ),
            ),
            VsBaseline(
                "cadence_spm",
                id="cadence",
                title="Lower cadence than usual",
                evidence="Cadence {value:.1f} spm vs your baseline {mean:.1f} spm ({pct:+.0f} %) at a similar pace.",
                label="cadence",
                confidence=MEASUREMENT_CONFIDENCE["cadence_spm"],
                direction="below",
                sds=0.0,
                at_least_pct=5.0,
            ),
            Population(
                "cadence_spm",
                id="cadence_context",
                title="Cadence on the low side",
                evidence="Cadence {value:.1f} spm. Context only: cadence depends on speed and height; some runners who "
                "overstride run below about {threshold:g} spm.",
                label="cadence",
                confidence=0.5,
                below=160.0,
            ),
        ),
        rule_note="Cadence depends on speed and height, which is why a low one alone is only context.",
        evidence_grade="A/B (braking and injury); D (hip socket)",
        evidence=(
            "Higher braking force predicted injury in female recreational runners (5-8x the rate in the top third, "
            "prospective), and braking grows with the foot landing ahead of the hip (B). A 5-10 % higher step rate "
            "lowers braking impulse and hip adduction in the lab (B; the meta-analysis calls the braking evidence "
            "limited). That braking strains the hip socket or labrum is unsupported (D), and whether cadence "
            "changes prevent injury is not known."
        ),
        sources=cite("runners_hip", "openfit", "napier2018", "lieberman2015", "heiderscheit2011", "anderson2022"),
        actions=(
            "Raise cadence 5-10 % above your own usual (not towards a fixed 180) with a metronome or music, for part "
            "of each run at first.",
            "Cues: land under the hips, run tall.",
        ),
        caveats=(
            "Sacral braking is the pelvis's, not the whole body's: it runs about 70 % above force-plate values and "
            "follows them loosely (r = 0.6); compare with yourself at the same pace, on the flat.",
            "Hills change braking; cadence rises about 5-6 spm per m/s of speed.",
        ),
        red_flags=(RED_FLAGS[2],),
    ),
    Mechanism(
        id="impact_absorption",
        title="Impact absorption",
        claim=(
            "Fleck (Openfit) lists excessive impact absorption among what a running assessment should find, and "
            "advises shoes that reduce the forces the joints absorb."
        ),
        plain_words=(
            "Each landing sends a jolt through the body. A higher peak acceleration at the sacrum, or more bounce, "
            "means the legs and hips soak up more load with every step."
        ),
        signals=("impact_g", "vertical_oscillation_cm"),
        rules=(
            VsBaseline(
                "impact_g",
                id="impact_g",
                title="Impact higher than usual",
                evidence="Impact {value:.2f} g vs your baseline {mean:.2f} g ({pct:+.0f} %).",
                label="impact",
                confidence=MEASUREMENT_CONFIDENCE["impact_g"],
                at_least_pct=10.0,
            ),
            VsBaseline(
                "vertical_oscillation_cm",
                id="vertical_oscillation_cm",
                title="Bounce higher than usual",
                evidence="Bounce {value:.1f} cm vs your baseline {mean:.1f} cm ({pct:+.0f} %).",
                label="vertical oscillation",
                confidence=MEASUREMENT_CONFIDENCE["vertical_oscillation_cm"],
                at_least_pct=10.0,
            ),
        ),
        rule_note="No population threshold: impact in g depends on the sensor and how it is worn.",
        evidence_grade="C",
        evidence=(
            "High vertical loading rates went with medically diagnosed injuries in one large study of women, but "
            "not with injuries overall (C); accelerometer estimates of loading rate are imprecise."
        ),
        sources=cite("openfit", "davis2016", "kiernan2023", "watari2016", "heiderscheit2011"),
        actions=(
            "A slightly higher cadence lowers bounce.",
            "Manage load; if you run a lot, make sure you eat enough (energy deficiency weakens bone).",
        ),
        caveats=(
            "Pelvis bounce overestimates the centre of mass's by about 1.5 cm; impact values are only comparable "
            "for the same sensor and placement.",
        ),
        red_flags=(RED_FLAGS[2],),
    ),
    Mechanism(
        id="left_right_imbalance",
        title="Left/right imbalance",
        claim=(
            "Fleck (Openfit) names muscle endurance imbalances among what a gait analysis should find; Paton "
            "(Runner's World UK) looks at how each leg moves as part of a whole-body assessment."
        ),
        plain_words=(
            "Everyone is a little asymmetric. A change in how differently your two sides move (for example after an "
            "injury) can show that you are protecting one side."
        ),
        signals=("asymmetry_pct", "pelvic_drop_deg", "contact_time_ms", "braking_dv_mps"),
        rules=tuple(
            rule
            for field, label, unit, change, context in (
                ("contact_time_asymmetry_pct", "contact time", "%", 5.0, 10.0),
                ("braking_asymmetry_pct", "braking", "%", 5.0, 10.0),
                ("pelvic_drop_right_minus_left_deg", "pelvic drop (right minus left)", "deg", 2.0, 4.0),
            )
            for rule in (
                VsBaseline(
                    field,
                    id=field,
                    title=f"Your left/right balance in {label} changed",
                    evidence=f"Left/right difference in {label}: {{value:.1f}} {unit} vs your usual "
                    f"{{mean:.1f}} {unit}.",
                    label=f"the left/right difference in {label}",
                    confidence=MEASUREMENT_CONFIDENCE["left_right_asymmetry"],
                    direction="either",
                    at_least=change,
                ),
                Population(
                    field,
                    id=f"{field}_context",
                    title=f"Left/right difference in {label}",
                    evidence=f"Left/right difference in {label}: {{value:.1f}} {unit}. Asymmetry alone does not "
                    "predict injury; it matters if it changes.",
                    label=f"a left/right difference in {label}",
                    confidence=0.4,
                    beyond=context,
                ),
            )
        ),
        rule_note="A change detector only: asymmetry is never scored as a risk.",
        evidence_grade="C (against a risk link)",
        evidence=(
            "In 836 runners followed for 6 months, asymmetry did not predict injury; differences of 2-3 deg between "
            "sides are normal."
        ),
        sources=cite("openfit", "five_causes", "malisoux2024"),
        actions=("If a new asymmetry appears with pain, have a physiotherapist look at the side you are protecting.",),
        caveats=("Per-side values need confident left/right labels; gait withholds them otherwise.",),
    ),
    Mechanism(
        id="pelvic_rotation_iliacus",
        title="Pelvic rotation and the iliacus",
        claim=(
            "Christine Koth (Runner's World) describes the iliacus as a short stabiliser of the pelvis in every "
            "stride that running and long sitting tighten; in her account a tight iliacus can twist the pelvis, "
            "with knock-on strain at the hip joint, the sacroiliac joint and the knee."
        ),
        plain_words=(
            "The pelvis turns a few degrees with every stride. A change in that turning, or one side turning more, "
            "is what a tight hip flexor might show, if it shows at all."
        ),
        signals=("pelvic_rotation_range_deg",),
        rules=(
            VsBaseline(
                "pelvic_rotation_range_deg",
                id="pelvic_rotation_range_deg",
                title="Pelvic rotation range larger than usual",
                evidence="Pelvic rotation range {value:.1f} deg vs your baseline {mean:.1f} deg.",
                label="pelvic rotation range",
                confidence=MEASUREMENT_CONFIDENCE["pelvic_rotation_range_deg"],
                at_least=2.0,
                severity=Severity.INFO,
            ),
        ),
        rule_note="Only against your baseline, as low-confidence context.",
        evidence_grade="D",
        evidence=(
            "No study was found linking iliacus tightness to pelvic rotation in runners; this is clinical opinion. "
            "Iliopsoas problems do cause pain at the front of the hip and groin."
        ),
        sources=cite("iliacus", "wada2020"),
        actions=(
            "The article's routine: loosen the iliacus with a massage ball, then the muscles behind the hip, then a "
            "banded march keeping the pelvis level (opinion-based; stop if it hurts).",
            "Groin or front-of-hip pain: see a clinician rather than self-treating.",
        ),
        caveats=("Rotation is the least reliable angle a single sensor reads (a few degrees of error).",),
        red_flags=(RED_FLAGS[2],),
    ),
    Mechanism(
        id="anterior_tilt_hip_flexors",
        title="Anterior pelvic tilt and tight hip flexors",
        claim=(
            "The 'Fix Runner's Hip' article blames hip flexors kept short by sitting for tipping the pelvis "
            "forward (anterior tilt) and so loading the hip; Jessica Warneke (Runner's World) also points at "
            "sitting and tight hip flexors."
        ),
        plain_words=(
            "The pelvis tips forward and back with every step. The article's idea is that tight hip flexors keep it "
            "tipped forward; the research mostly does not support that link."
        ),
        signals=("pelvic_tilt_range_deg",),
        rules=(
            VsBaseline(
                "pelvic_tilt_range_deg",
                id="pelvic_tilt_range_deg",
                title="Pelvic tilt range larger than usual",
                evidence="Pelvic tilt range {value:.1f} deg vs your baseline {mean:.1f} deg.",
                label="pelvic tilt range",
                confidence=MEASUREMENT_CONFIDENCE["pelvic_tilt_range_deg"],
                at_least=2.0,
                severity=Severity.INFO,
            ),
        ),
        rule_note=(
            "Only against your baseline: a single sensor cannot measure absolute tilt without a standing calibration."
        ),
        evidence_grade="C/D (contrary evidence)",
        evidence=(
            "Contrary evidence: in elite runners anterior tilt went with less hip extension while running, but not "
            "with hip-flexor tightness on a clinical test; three weeks of hip-flexor stretching increased passive "
            "range without changing tilt during running."
        ),
        sources=cite("runners_hip", "iliacus", "schache2000", "pohl"),
        actions=(
            "Hip-extension strength and control (bridges, single-leg deadlifts); stretching is optional and changes "
            "passive range only.",
            "Break up long sitting.",
        ),
        caveats=("Tilt depends on how the sensor sits; compare only with the same placement.",),
    ),
    Mechanism(
        id="training_load_spike",
        title="Training-load spikes",
        claim=(
            "Paton (Runner's World UK) and Fleck (Openfit) both put sudden jumps in mileage or intensity among the "
            "main causes of hip strains, tendinopathy and stress fractures."
        ),
        plain_words=(
            "Tendons and bone adapt more slowly than fitness. Weeks that jump well above the previous one leave them "
            "behind."
        ),
        signals=("weekly_running_min", "weekly_steps"),
        rules=(
            LoadSpike(
                title="Weekly running jumped by more than {above_pct:g} %",
                evidence="This week so far: {running_min:.0f} min of running, {change_pct:+.0f} % on the previous "
                "week ({previous_min:.0f} min); 4-week average {chronic_min:.0f} min.",
                confidence=MEASUREMENT_CONFIDENCE["weekly_load"],
                above_pct=100 * SPIKE,
            ),
        ),
        rule_note="",
        evidence_grade="B/C",
        evidence=(
            "Novice runners who raised weekly distance by more than 30 % had more distance-related injuries "
            "(including gluteus medius injury and trochanteric bursitis; hazard ratio 1.59, borderline). The "
            "'10 % rule' itself was not supported in a randomised trial."
        ),
        sources=cite("five_causes", "openfit", "nielsen2014", "buist2008"),
        actions=("Increase gradually; keep a harder week followed by an easier one; note any pain next to the load.",),
        caveats=("Load counts only the runs gait recorded.",),
    ),
    Mechanism(
        id="red_flags",
        title="When to see a clinician",
        claim=(
            "Fleck (Openfit) advises seeing a physical therapist or doctor for pain at rest, for grinding, clicking "
            "or popping, or for sharp radiating pain; Paton describes stress fractures of the femoral neck and "
            "pubic ramus, linked to energy deficiency and load, as painful even when walking or standing."
        ),
        plain_words="Some symptoms need a clinician, whatever the numbers say.",
        signals=(),
        rules=(),
        rule_note="Always shown; gait cannot detect these from movement.",
        evidence_grade="clinical guidance",
        evidence=("Femoral neck stress fractures are a known risk in distance runners; delay worsens the outcome."),
        sources=cite("openfit", "five_causes", "runners_hip", "robertson2017"),
        actions=("Stop running and see a doctor or physiotherapist.",),
        caveats=(),
        red_flags=RED_FLAGS,
    ),
)

BY_ID = {m.id: m for m in MECHANISMS}
