"""Demo incidents: a realistic mix of open and past incidents across
categories and severities, made through the real services (so timelines,
reports, runbooks and clocks are what the app itself would have written).

Idempotent: does nothing when the demo incidents exist. Time is moved for
the past incidents with a patched clock, only here.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from unittest import mock

from django.utils import timezone

from incidents import services
from incidents.domain.severity import ImpactAnswers
from incidents.models import Category, GradingCriterion, Incident, Market, Surface
from tscc.models import Team, User

MARKER = "[demo]"


@contextlib.contextmanager
def clock_at(moment: datetime):
    """Make timezone.now() return `moment` (demo seeding only)."""
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


@dataclass
class Step:
    after_minutes: int
    action: str
    args: dict = field(default_factory=dict)


@dataclass
class Story:
    title: str
    title_zh: str
    category: str
    answers: ImpactAnswers
    started_hours_ago: float
    markets: tuple[str, ...] = ()
    surfaces: tuple[str, ...] = ()
    team: str = "ts-ops-cn"
    commander: str | None = "manager"
    summary: str = ""
    # Minutes between the harm beginning and its discovery, where known (MTTD).
    harm_lead_minutes: int | None = None
    flags: dict = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)


def _stories() -> list[Story]:
    S = Step
    return [
        Story(
            "Live-streamed attack re-uploads spreading",
            "直播暴力袭击视频二次传播",
            "live_stream",
            ImpactAnswers(user_harm=4, reach=4, press=3),
            3.5,
            ("cn", "hk"),
            ("live", "short-video", "search"),
            summary="Clips of a live-streamed attack are re-uploaded, edited to evade hashes.",
            harm_lead_minutes=25,
            steps=[
                S(2, "ack"),
                S(4, "role", {"role": "communications", "user": "responder"}),
                S(6, "state", {"target": "investigating"}),
                S(
                    12,
                    "note",
                    {"text": "Hash set shared with the review console; 1,240 re-uploads removed."},
                ),
                S(
                    20,
                    "decision",
                    {
                        "text": "Block the three known edit templates at upload.",
                        "policy": "Violent extremism 2.3",
                        "reason": "Edits evade exact hashes.",
                    },
                ),
                S(
                    25,
                    "update",
                    {
                        "en": "Re-uploads contained to under 50/hour; hash matching extended.",
                        "zh": "二次上传已控制在每小时50条以内，哈希匹配已扩展。",
                    },
                ),
                S(
                    40,
                    "grade",
                    {
                        "grades": ["relatively_major"],
                        "rationale": "Spread beyond 10,000 reposts before takedown.",
                    },
                ),
                S(55, "state", {"target": "mitigating"}),
                S(80, "submit_reports", {}),
                S(
                    95,
                    "update",
                    {
                        "en": "CAC initial report submitted. Monitoring re-upload rate.",
                        "zh": "已向属地网信部门提交初始报告，持续监控二次上传。",
                    },
                ),
            ],
        ),
        Story(
            "Typhoon evacuation rumour trending on hot search",
            "台风撤离谣言登上热搜",
            "rumor",
            ImpactAnswers(reach=3, press=3, user_harm=2),
            5,
            ("cn",),
            ("search", "feed"),
            commander="responder",
            steps=[
                S(5, "state", {"target": "investigating"}),
                S(
                    15,
                    "note",
                    {"text": "Debunk label drafted with the Guangdong emergency office statement."},
                ),
                S(30, "state", {"target": "mitigating"}),
                S(
                    45,
                    "update",
                    {
                        "en": "Debunk label live on 3 hot-search entries.",
                        "zh": "三个热搜词条已加注辟谣标签。",
                    },
                ),
                S(90, "state", {"target": "monitoring"}),
            ],
        ),
        Story(
            "Vendor laptop with moderation screenshots stolen",
            "供应商笔记本电脑被盗（含审核截图）",
            "data_leak",
            ImpactAnswers(legal=3, user_harm=2),
            2,
            ("sea",),
            ("review-tools",),
            team="ts-ops-intl",
            commander=None,
            flags={"involves_personal_info": True},
            summary="A BPO moderator's laptop was stolen in Manila; it may hold user screenshots.",
        ),
        Story(
            "Gambling ad links flood comments",
            "评论区赌博广告链接泛滥",
            "spam_flood",
            ImpactAnswers(reach=2, operations=1),
            9,
            ("sea",),
            ("comments",),
            team="ts-ops-intl",
            commander="responder-dub",
            steps=[
                S(10, "state", {"target": "investigating"}),
                S(60, "state", {"target": "mitigating"}),
                S(200, "state", {"target": "monitoring"}),
                S(
                    210,
                    "update",
                    {"en": "URL pattern blocked; residual volume 3% of peak.", "zh": ""},
                ),
            ],
        ),
        Story(
            "Manila site power outage: queues failing over",
            "马尼拉基地停电，队列切换中",
            "vendor_outage",
            ImpactAnswers(operations=3),
            1.2,
            ("sea", "global"),
            ("review-tools",),
            team="ts-ops-intl",
            commander="responder-dub",
            steps=[
                S(3, "state", {"target": "investigating"}),
                S(
                    8,
                    "task",
                    {
                        "title": "Confirm Cebu BCP seats for the CSAM queue",
                        "owner": "responder-dub",
                    },
                ),
            ],
        ),
        Story(
            "New evasion keyword for drug sales",
            "毒品交易新型规避关键词",
            "policy_gap",
            ImpactAnswers(reach=1),
            0.4,
            ("cn",),
            ("search", "comments"),
            commander=None,
        ),
        Story(
            "Provincial CAC inquiry about minors' live tipping",
            "省网信办问询未成年人直播打赏",
            "reg_inquiry",
            ImpactAnswers(legal=2, press=1),
            26,
            ("cn",),
            ("live",),
            steps=[
                S(20, "role", {"role": "regulatory_liaison", "user": "manager"}),
                S(30, "state", {"target": "investigating"}),
            ],
        ),
    ] + _past_stories()


def _past_stories() -> list[Story]:
    S = Step
    past = [
        (
            "Fake review network boosting a skincare brand",
            "护肤品牌刷评水军网络",
            "cib",
            ImpactAnswers(reach=2),
            24 * 3,
        ),
        (
            "Deepfake of a news anchor selling investments",
            "新闻主播深度伪造荐股视频",
            "genai_abuse",
            ImpactAnswers(reach=3, user_harm=3),
            24 * 6,
        ),
        (
            "Harassment pile-on against a teacher",
            "针对一名教师的网暴",
            "cyberviolence",
            ImpactAnswers(user_harm=3),
            24 * 9,
        ),
        (
            "Credential stuffing on verified accounts",
            "认证账号撞库攻击",
            "ato_wave",
            ImpactAnswers(user_harm=3, reach=2),
            24 * 14,
        ),
        (
            "Classifier threshold bug let nudity through",
            "分类模型阈值错误导致低俗内容漏审",
            "tooling_outage",
            ImpactAnswers(operations=3, reach=2),
            24 * 20,
        ),
        (
            "Minors' mode bypass shared in a tutorial",
            "青少年模式绕过教程传播",
            "minor_safety",
            ImpactAnswers(user_harm=2, legal=2),
            24 * 27,
        ),
        (
            "Investigative article on moderation backlog",
            "媒体报道审核积压问题",
            "pr_crisis",
            ImpactAnswers(press=3),
            24 * 35,
        ),
        (
            "Scam links trending after a concert",
            "演唱会后诈骗链接扩散",
            "spam_flood",
            ImpactAnswers(reach=2),
            24 * 48,
        ),
        (
            "Terror video hash match on upload",
            "上传命中恐怖视频哈希",
            "viral_harm",
            ImpactAnswers(user_harm=3, reach=1),
            24 * 58,
        ),
    ]
    stories = []
    for i, (title, zh, category, answers, hours) in enumerate(past):
        resolve_after = [95, 240, 180, 600, 130, 420, 900, 75, 50][i]
        harm_lead = [45, 180, None, 20, 360, None, None, 30, 5][i]
        steps = [
            S(3 + i, "ack"),
            S(6 + i, "state", {"target": "investigating"}),
            S(resolve_after // 2, "state", {"target": "mitigating"}),
            S(resolve_after, "state", {"target": "resolved"}),
        ]
        if max(answers.as_dict().values()) <= 2:  # SEV2 and below close without a review
            steps.append(S(resolve_after + 60 * 24, "state", {"target": "closed"}))
        else:
            steps.append(S(resolve_after + 60 * 20, "review", {}))
            steps.append(S(resolve_after + 60 * 24, "state", {"target": "closed"}))
        stories.append(
            Story(
                title,
                zh,
                category,
                answers,
                hours,
                ("cn",) if i % 3 else ("sea",),
                ("feed",),
                commander=["manager", "responder", "responder-dub"][i % 3],
                harm_lead_minutes=harm_lead,
                steps=steps,
            )
        )
    return stories


def _run_step(step: Step, incident: Incident, users: dict[str, User], actor: User) -> None:
    a = step.args
    iid = incident.id
    if step.action == "ack":
        services.incident_acknowledge(actor=actor, incident_id=iid)
    elif step.action == "state":
        services.incident_transition(actor=actor, incident_id=iid, target=a["target"])
    elif step.action == "role":
        services.incident_assign_role(
            actor=actor, incident_id=iid, role=a["role"], user=users[a["user"]]
        )
    elif step.action == "note":
        services.incident_add_note(actor=actor, incident_id=iid, text=a["text"])
    elif step.action == "decision":
        services.incident_record_decision(
            actor=actor, incident_id=iid, text=a["text"], policy=a["policy"], reason=a["reason"]
        )
    elif step.action == "update":
        services.status_update_publish(
            actor=actor, incident_id=iid, audience="company", text_en=a["en"], text_zh=a["zh"]
        )
    elif step.action == "task":
        services.incident_task_create(
            actor=actor, incident_id=iid, title=a["title"], owner=users[a["owner"]]
        )
    elif step.action == "grade":
        met = {
            c.id: "Repost counts from the trust dashboard"
            for c in GradingCriterion.objects.filter(grade__in=a["grades"], active=True)[:1]
        }
        services.incident_grade(
            actor=actor, incident_id=iid, in_scope=True, met=met, rationale=a["rationale"]
        )
    elif step.action == "submit_reports":
        for report in incident.reports.filter(state__in=["required", "drafting"], kind="initial"):
            services.report_save_draft(
                actor=actor,
                report_id=report.id,
                content_zh="一、单位及系统基本情况……二、事件发现时间、类型、级别、影响……",
                content_en="Initial report (items 1-2).",
            )
            services.report_submit(
                actor=actor,
                report_id=report.id,
                channel="12387_web",
                submitted_at=timezone.now(),
                reference_number="CAC-GD-2026-0142",
            )
    elif step.action == "review":
        services.review_save(
            actor=actor,
            incident_id=iid,
            summary="What happened, in two paragraphs.",
            impact="Reach and harm, with numbers.",
            root_cause="Detection gap on edited uploads.",
            went_well="Hash sharing was fast.",
            lessons="Pre-approve perceptual hashing.",
        )
        services.review_set_state(actor=actor, incident_id=iid, state="published")


def seed(stdout=None) -> int:
    """Create the demo incidents unless they exist. Returns how many it made."""
    if Incident.objects.filter(summary__endswith=MARKER).exists():
        return 0
    users = {u.username: u for u in User.objects.all()}
    manager = users.get("manager")
    if manager is None:
        return 0
    teams = {t.slug: t for t in Team.objects.all()}
    real_now = timezone.now()
    made = 0
    for story in sorted(_stories(), key=lambda s: -s.started_hours_ago):
        start = real_now - timedelta(hours=story.started_hours_ago)
        with clock_at(start):
            incident = services.incident_declare(
                actor=manager,
                declaration=services.Declaration(
                    title=story.title,
                    title_zh=story.title_zh,
                    category=Category.objects.get(code=story.category),
                    answers=story.answers,
                    summary=(story.summary + " " + MARKER).strip(),
                    discovered_at=start - timedelta(minutes=7),
                    harm_started_at=(
                        start - timedelta(minutes=7 + story.harm_lead_minutes)
                        if story.harm_lead_minutes is not None
                        else None
                    ),
                    markets=Market.objects.filter(code__in=story.markets),
                    surfaces=Surface.objects.filter(code__in=story.surfaces),
                    team=teams.get(story.team),
                    commander=users.get(story.commander) if story.commander else None,
                    **story.flags,
                ),
            )
        commander = users.get(story.commander) if story.commander else manager
        for step in story.steps:
            moment = start + timedelta(minutes=step.after_minutes)
            if moment > real_now:
                break
            with clock_at(moment):
                _run_step(step, Incident.objects.get(id=incident.id), users, commander or manager)
        made += 1
    if stdout is not None:
        stdout.write(f"Demo incidents: {made}.")
    return made
