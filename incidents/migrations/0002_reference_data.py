"""Seed the reference data from ../shared/domain (taxonomy §1.2, SEV targets
§6.3, grading annex §1.4, reporting duties §2.1/§6.3, runbooks §6.8). Admins
correct it afterwards; every legal value carries its source and confidence."""

from django.db import migrations

CATEGORIES = [
    ("viral_harm", "Viral harmful / illegal content", "违法有害信息扩散", False),
    ("csam_cse", "Child sexual abuse material / exploitation", "儿童色情/性剥削、诱骗未成年人", True),
    ("live_stream", "Live-stream incident", "直播事故", False),
    ("cib", "Coordinated inauthentic behaviour / fake traffic", "水军/刷量/协同造假", False),
    ("rumor", "Rumour / disinformation wave", "网络谣言", False),
    ("cyberviolence", "Harassment / doxxing pile-on", "网络暴力/人肉搜索", False),
    ("ato_wave", "Account takeover wave", "账号盗用潮", False),
    ("spam_flood", "Spam / scam flood", "垃圾信息/诈骗泛滥", False),
    ("genai_abuse", "Generative-AI misuse / unlabeled synthetic content", "AIGC滥用/未标识合成内容", False),
    ("minor_safety", "Minor-safety incident (non-CSAM)", "未成年人保护事件", False),
    ("tooling_outage", "Moderation tooling or classifier outage", "审核系统故障/模型失效", False),
    ("vendor_outage", "BPO vendor / site outage", "外包供应商/基地中断", False),
    ("data_leak", "Data leak / personal information breach", "数据泄露/个人信息泄露", False),
    ("reg_inquiry", "Regulator inquiry / summons / order", "监管问询/约谈/整改通知", False),
    ("pr_crisis", "PR / media crisis", "舆情危机", False),
    ("le_request", "Law-enforcement emergency / threat to life", "执法紧急协查/危及生命", False),
    ("policy_gap", "Policy gap / novel abuse pattern", "政策空白/新型风险", False),
]

MARKETS = [
    ("cn", "Mainland China", "中国内地"),
    ("hk", "Hong Kong SAR", "中国香港"),
    ("sea", "Southeast Asia", "东南亚"),
    ("jp-kr", "Japan and Korea", "日韩"),
    ("eu", "European Union", "欧盟"),
    ("us", "United States", "美国"),
    ("latam", "Latin America", "拉丁美洲"),
    ("mena", "Middle East and North Africa", "中东和北非"),
    ("global", "Global", "全球"),
]

SURFACES = [
    ("feed", "Recommendation feed", "推荐信息流"),
    ("search", "Search and hot list", "搜索与热榜"),
    ("live", "Live streaming", "直播"),
    ("short-video", "Short video", "短视频"),
    ("comments", "Comments", "评论"),
    ("messaging", "Direct messages", "私信"),
    ("accounts", "Accounts and profiles", "账号与主页"),
    ("ads", "Ads and commerce", "广告与电商"),
    ("aigc", "AI generation", "AI生成"),
    ("review-tools", "Review tooling", "审核工具"),
]

# §6.3 item 31 [P]: (ack, commander, update cadence) in minutes.
SEVERITY_POLICIES = [
    ("sev0", 5, 10, 30),
    ("sev1", 15, 30, 60),
    ("sev2", 60, None, 240),
    ("sev3", 240, None, None),
    ("sev4", 7 * 24 * 60, None, None),
]

NUDGES = [
    ("no_commander", 2),
    ("severity_unconfirmed", 5),
    ("grading_due", 60),  # §6.3 item 26 [P]
    ("grading_due_cii", 30),
]

CAC = "国家网络安全事件报告管理办法 (2025-09-11) 附件《网络安全事件分级指南》"
CRITERIA = [
    ("especially_major", 10,
     "超大型网络平台被攻击篡改，导致违法有害信息特大范围传播：首页展示≥6小时或其他页面≥24小时，或转发≥10万次，或浏览/点击≥100万次",
     "A very large platform is attacked or tampered with and illegal information spreads on an especially large scale: home page ≥ 6 h or other pages ≥ 24 h, or ≥ 100,000 reposts, or ≥ 1,000,000 views/clicks",
     "V"),
    ("especially_major", 20, "个人信息泄露≥1亿人", "Personal information of ≥ 100 million people leaked", "V"),
    ("especially_major", 30, "直接经济损失≥1亿元", "Direct economic loss ≥ RMB 100 million", "S"),
    ("especially_major", 40, "关键信息基础设施整体中断≥6小时或主要功能中断≥24小时",
     "Critical information infrastructure fully down ≥ 6 h or main function down ≥ 24 h", "V"),
    ("major", 50, "个人信息泄露≥1000万人", "Personal information of ≥ 10 million people leaked", "V"),
    ("major", 60, "直接经济损失≥2000万元", "Direct economic loss ≥ RMB 20 million", "S"),
    ("major", 70, "违法有害信息大范围传播（重大档阈值待从原文核实）",
     "Illegal information spread widely (the 重大 thresholds are still to be loaded from the primary text)", "U"),
    ("relatively_major", 80, "个人信息泄露≥100万人", "Personal information of ≥ 1 million people leaked", "V"),
    ("relatively_major", 90, "直接经济损失≥500万元", "Direct economic loss ≥ RMB 5 million", "S"),
    ("relatively_major", 100, "违法有害信息较大范围传播（较大档阈值待从原文核实）",
     "Illegal information spread on a relatively large scale (the 较大 thresholds are still to be loaded from the primary text)", "U"),
    ("general", 110, "其他对网络、信息系统、数据或业务造成危害的网络安全事件",
     "Any other cybersecurity incident harming networks, systems, data or business", "S"),
]

MEASURES = "国家网络安全事件报告管理办法 (CAC, 2025-09-11, eff. 2025-11-01)"
OBLIGATIONS = [
    dict(code="cac-initial", name_en="CAC initial report", name_zh="网络安全事件初始报告",
         authority_en="Provincial CAC (属地省级网信部门)", authority_zh="属地省级网信部门",
         min_grade="relatively_major", cii=False, anchor="discovered", due_minutes=240,
         statutory=True, source=MEASURES + " Art.4", confidence="V"),
    dict(code="cac-initial-cii", name_en="CAC initial report (CII)", name_zh="网络安全事件初始报告（关键信息基础设施）",
         authority_en="Protection department and public security organ", authority_zh="保护工作部门和公安机关",
         min_grade="relatively_major", cii=True, anchor="discovered", due_minutes=60,
         statutory=True, source=MEASURES + " Art.4", confidence="V"),
    dict(code="cac-initial-state-organ", name_en="CAC initial report (central/state organ)",
         name_zh="网络安全事件初始报告（中央和国家机关）",
         authority_en="Own cyberspace-affairs body", authority_zh="本单位网信工作机构",
         min_grade="relatively_major", cii=None, anchor="discovered", due_minutes=120,
         statutory=True, source=MEASURES + " Art.4", confidence="V", active=False),
    dict(code="cac-summary", name_en="CAC 30-day incident handling summary", name_zh="事件处置总结报告（30日内）",
         authority_en="Provincial CAC (original channel)", authority_zh="属地省级网信部门（原报送渠道）",
         min_grade="relatively_major", cii=None, anchor="handling_ended", due_minutes=30 * 24 * 60,
         statutory=True, source=MEASURES + " Art.8", confidence="V"),
    dict(code="pipl-authority-notice", name_en="PIPL Art.57 notice to the authority",
         name_zh="个人信息泄露向主管部门报告（个保法第57条）",
         authority_en="Personal-information protection authority", authority_zh="履行个人信息保护职责的部门",
         min_grade="", cii=None, personal_info=True, anchor="discovered", due_minutes=24 * 60,
         statutory=False, source="个人信息保护法 Art.57 (2021-11-01): 立即; internal target 24 h", confidence="P"),
    dict(code="minors-report", name_en="Minors' Online Protection report (internal target)",
         name_zh="未成年人网络保护报告（内部目标时限）",
         authority_en="CAC and public security organ", authority_zh="网信部门和公安机关",
         min_grade="", cii=None, minors=True, anchor="discovered", due_minutes=24 * 60,
         statutory=False, source="未成年人网络保护条例 Arts.29, 35 (2024-01-01): 立即/及时; internal target 24 h",
         confidence="P"),
]

RUNBOOKS = [
    ("csam_cse", "sev4", "CSAM response", "儿童性剥削内容处置", [
        ("Preserve references and hashes only; never store the media", "仅保存引用和哈希值，绝不存储媒体文件", 15),
        ("Remove content and suspend the accounts involved", "下架内容并封禁相关账号", 30),
        ("Report to CAC / public security and, where applicable, NCMEC", "向网信部门/公安机关报告，适用时向NCMEC报告", 60),
        ("Start the preservation hold (1 year for NCMEC reports)", "启动证据保全（NCMEC报告保存1年）", 120),
        ("Arrange wellness support for the reviewers exposed", "为接触内容的审核员安排心理支持", 24 * 60),
    ]),
    ("reg_inquiry", "sev4", "Regulator inquiry", "监管问询处置", [
        ("Record the authority, contact, deadline and issues raised", "记录监管部门、联系人、期限和问题", 30),
        ("Assign the regulatory liaison and brief legal", "指定监管联络人并通报法务", 60),
        ("Draft the rectification plan in Chinese", "起草中文整改方案", 24 * 60),
    ]),
    ("viral_harm", "sev2", "Viral harmful content", "有害信息扩散处置", [
        ("Stop transmission: remove, block re-uploads, pull from hot lists", "停止传输：下架、拦截重传、撤出热榜", 15),
        ("Keep records of the content, times and URLs", "保存内容、时间和链接记录", 30),
        ("Assess the official grade (CAC annex)", "按分级指南评估事件级别", 60),
    ]),
    ("data_leak", "sev4", "Personal information breach", "个人信息泄露处置", [
        ("Contain the leak and preserve logs", "控制泄露并保存日志", 30),
        ("Count the people and data categories affected", "统计受影响人数和数据类别", 120),
        ("Decide on notice to the authority and to individuals (PIPL Art.57)", "决定是否通知主管部门和个人（个保法第57条）", 24 * 60),
    ]),
    ("vendor_outage", "sev2", "Vendor site outage", "供应商基地中断处置", [
        ("Confirm the site status and the queues it serves", "确认基地状态及其服务的队列", 15),
        ("Fail priority queues over to the BCP site", "将优先队列切换到业务连续性备份基地", 30),
        ("Agree the recovery time with the vendor lead", "与供应商负责人确认恢复时间", 60),
    ]),
    (None, "sev1", "Major incident basics", "重大事件基本流程", [
        ("Open the war room and name a scribe", "开启作战室并指定记录员", 10),
        ("Notify executives and legal", "通知高管和法务", 15),
        ("Assess the official grade (CAC annex)", "按分级指南评估事件级别", 60),
    ]),
]


def seed(apps, schema_editor):
    get = apps.get_model
    for order, (code, en, zh, no_media) in enumerate(CATEGORIES):
        get("incidents", "Category").objects.update_or_create(
            code=code, defaults=dict(name_en=en, name_zh=zh, order=order, no_media=no_media)
        )
    for order, (code, en, zh) in enumerate(MARKETS):
        get("incidents", "Market").objects.update_or_create(
            code=code, defaults=dict(name_en=en, name_zh=zh, order=order)
        )
    for order, (code, en, zh) in enumerate(SURFACES):
        get("incidents", "Surface").objects.update_or_create(
            code=code, defaults=dict(name_en=en, name_zh=zh, order=order)
        )
    for severity, ack, commander, update in SEVERITY_POLICIES:
        get("incidents", "SeverityPolicy").objects.update_or_create(
            severity=severity,
            defaults=dict(ack_minutes=ack, commander_minutes=commander, update_minutes=update),
        )
    for kind, minutes in NUDGES:
        get("incidents", "NudgeRule").objects.update_or_create(kind=kind, defaults=dict(minutes=minutes))
    Criterion = get("incidents", "GradingCriterion")
    for grade, order, zh, en, confidence in CRITERIA:
        Criterion.objects.get_or_create(
            instrument="CAC-2025-Measures", version="2025-09-11", order=order,
            defaults=dict(grade=grade, text_zh=zh, text_en=en, source=CAC, confidence=confidence),
        )
    for row in OBLIGATIONS:
        row = dict(row)
        get("incidents", "ReportingObligation").objects.update_or_create(code=row.pop("code"), defaults=row)
    Category = get("incidents", "Category")
    Runbook = get("incidents", "Runbook")
    for category, min_severity, en, zh, items in RUNBOOKS:
        runbook, created = Runbook.objects.get_or_create(
            name_en=en,
            defaults=dict(
                name_zh=zh,
                min_severity=min_severity,
                category=Category.objects.get(code=category) if category else None,
            ),
        )
        if created:
            for order, (item_en, item_zh, due) in enumerate(items):
                runbook.items.create(title_en=item_en, title_zh=item_zh, due_minutes=due, order=order)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
