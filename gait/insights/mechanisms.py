"""The mechanism map as data: what the hip-pain articles claim, how it shows (or could show) in a sacral IMU,
the rule gait applies, how strong the evidence is, what to do, and what to watch out for.

Evidence grades (from the domain notes, section 4): **A** prospective or randomised support; **B** consistent
cross-sectional or lab-manipulation evidence; **C** mixed or weak; **D** clinical opinion or mechanistic
speculation. All wording here paraphrases the sources; nothing is quoted.
"""

from __future__ import annotations

from dataclasses import dataclass

from gait.insights.sources import Source, cite

NOT_A_DIAGNOSIS = (
    "gait estimates movement from one body-worn sensor. It is not a medical device and does not diagnose; a "
    "finding says a pattern is associated with a problem in research or clinical experience, not that you have it."
)


@dataclass(frozen=True)
class Mechanism:
    id: str
    title: str
    claim: str  # what the articles say, paraphrased, naming who says it
    plain_words: str  # the mechanism for a runner, in plain words
    signals: tuple[str, ...]  # gait metrics it relates to
    rule: str  # when gait raises a finding (population context where it exists, and the runner's baseline)
    evidence_grade: str  # A / B / C / D (or a range like "B/C")
    evidence: str  # what the research says, including evidence against
    sources: tuple[Source, ...]
    actions: tuple[str, ...]  # suggested actions and exercises
    caveats: tuple[str, ...]
    red_flags: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "title": self.title,
            "claim": self.claim,
            "plain_words": self.plain_words,
            "signals": list(self.signals),
            "rule": self.rule,
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
        rule=(
            "Per side, against your own baseline from earlier runs at a similar pace: a finding when the drop is "
            "above your usual by more than two standard deviations and at least 1 deg. No population threshold: "
            "the often-quoted 5 deg is a 2-D video folklore value, not a validated cut-off, and gait's drop is "
            "measured from initial contact."
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
        rule=(
            "In runs of at least 5 minutes: a finding when one side's drop in the last 20 % of the run exceeds the "
            "first 20 % by 1.5 deg or more (3 deg or more: act)."
        ),
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
        rule=(
            "Braking (forward speed lost per step) above your baseline at a similar pace by more than two standard "
            "deviations and 10 %, or cadence below your baseline by more than 5 %. Without a baseline: cadence under "
            "160 spm is noted as context only (it depends on speed and height)."
        ),
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
        rule=(
            "Impact or vertical oscillation above your baseline at a similar pace by more than two standard "
            "deviations and 10 %. No population threshold: impact in g depends on the sensor and how it is worn."
        ),
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
        rule=(
            "As a change detector only: a finding when an asymmetry moves away from your own usual by more than "
            "two standard deviations (and 5 percentage points, or 2 deg for pelvic drop). Without a baseline, "
            "large asymmetries are reported as context."
        ),
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
        rule=(
            "Only against your baseline: rotation range above your usual by more than two standard deviations and "
            "2 deg, or its left/right difference changing by more than 2 deg. Reported as low-confidence context."
        ),
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
        rule=(
            "Only against your baseline: tilt range above your usual by more than two standard deviations and "
            "2 deg. A single sensor cannot measure absolute tilt without a standing calibration."
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
        rule=(
            "Weekly running time (or distance where speed is known) more than 30 % above the previous week; shown "
            "beside the 4-week average rather than as a 'danger zone'."
        ),
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
        rule="Always shown; gait cannot detect these from movement.",
        evidence_grade="clinical guidance",
        evidence=("Femoral neck stress fractures are a known risk in distance runners; delay worsens the outcome."),
        sources=cite("openfit", "five_causes", "runners_hip", "robertson2017"),
        actions=("Stop running and see a doctor or physiotherapist.",),
        caveats=(),
        red_flags=RED_FLAGS,
    ),
)

BY_ID = {m.id: m for m in MECHANISMS}
