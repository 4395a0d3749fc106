"""The world of the demo archive: weights, name parts, org-chart templates and phrases.

Static data only; :mod:`kam.accounts.demo` draws from it with a seeded random generator.
"""

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from kam.core.models import Role

from .models import BuyingRole, Influence, TieKind

DEMO_PASSWORD = "kam-demo-2026"  # noqa: S105 - published on purpose: demo logins only


@dataclass(frozen=True)
class Territory:
    """A key-account manager's territory: where they are based and which cities they cover.

    ``provinces`` (two-digit GB/T 2260 prefixes) are covered whole, except for the cities
    another manager lists in ``cities``; two managers with the same province share it."""

    username: str
    name: str
    base: str  # the base city (GB/T 2260 city code)
    provinces: tuple[str, ...] = ()
    cities: tuple[str, ...] = ()


#: The key-account managers, one territory each: a province or a few neighbouring ones, or
#: part of a big province. Each carries a few tens of tier 1-3 accounts and a few tens of
#: smaller ones, all in their territory.
TERRITORIES: list[Territory] = [
    Territory("manager1", "张伟", "440300", cities=("440300", "441300", "441500", "440500",
                                                  "445100", "445200", "441400", "441600")),
    Territory("manager2", "刘洋", "440100", provinces=("44",)),
    Territory("manager3", "赵敏", "441900", cities=("441900", "442000", "440400", "440700",
                                                  "440600")),
    Territory("manager4", "孙浩", "310100", provinces=("31",)),
    Territory("manager5", "周婷", "310100", provinces=("31",)),
    Territory("manager6", "吴磊", "330100", provinces=("33",)),
    Territory("manager7", "郑芳", "330200", cities=("330200", "330300", "330600", "330900",
                                                  "331000")),
    Territory("manager8", "冯涛", "320500", cities=("320500", "320200", "320400", "320600")),
    Territory("manager9", "何静怡", "320100", provinces=("32", "34")),
    Territory("manager10", "马俊杰", "110100", provinces=("11",)),
    Territory("manager11", "胡雪梅", "120100", provinces=("12", "13", "14")),
    Territory("manager12", "郭志刚", "370200", provinces=("37",)),
    Territory("manager13", "杨帆", "350200", provinces=("35",)),
    Territory("manager14", "黄志明", "510100", provinces=("51", "50", "54")),
    Territory("manager15", "谢婷", "420100", provinces=("42",)),
    Territory("manager16", "韩冰", "410100", provinces=("41", "61", "62", "63", "64", "65")),
    Territory("manager17", "曹阳", "210100", provinces=("21", "22", "23", "15")),
    Territory("manager18", "彭丽", "450100", provinces=("45", "46", "53", "52")),
    Territory("manager19", "罗静", "110100", provinces=("11",)),
    Territory("manager20", "邓伟", "430100", provinces=("43", "36")),
]  # fmt: skip

#: Managers who double as industry managers (the coverage demo assigns them too).
INDUSTRY_MANAGERS = [("manager17", "fresh_food"), ("manager3", "pharma")]

#: (username, role, display name); every role has at least one login.
DEMO_USERS: list[tuple[str, str, str]] = [
    ("director", Role.DIRECTOR, "王建华"),
    ("dept1", Role.DEPARTMENT, "李静"),
    ("dept2", Role.DEPARTMENT, "陈晓东"),
    *[(t.username, Role.MANAGER, t.name) for t in TERRITORIES],
    *[
        (f"service{i}", Role.SERVICE, name)
        for i, name in enumerate(["黄晓燕", "林鹏", "徐丽娟", "朱凯"], start=1)
    ],
    ("analyst", Role.ANALYST, "高文博"),
    ("admin", Role.ADMIN, "系统管理员"),
]  # fmt: skip
DEMO_USERNAMES = [u for u, _, _ in DEMO_USERS]
#: Where the demo's people other than the managers work from (the head office).
HEAD_OFFICE_CITY = "440300"

# --- money at a carrier's scale -------------------------------------------------------------

#: The source's economic key-account threshold (CNY a year); the demo never scales it.
ECONOMIC_THRESHOLD = 5_000_000.0
#: Our revenue in the last twelve months by tier (CNY): (median, log-spread, lowest, highest).
#: Tier-1 economic accounts earn millions; the others stay clearly below the threshold, so
#: that the archive's economic flag and the segmentation's figures agree.
REVENUE_BY_TIER: dict[int, tuple[float, float, float, float]] = {
    1: (9_500_000, 0.5, 6_000_000, 48_000_000),
    2: (2_300_000, 0.3, 1_200_000, 4_400_000),
    3: (620_000, 0.3, 300_000, 1_150_000),
    4: (130_000, 0.4, 50_000, 290_000),
    5: (22_000, 0.6, 3_000, 48_000),
}
#: Tier-1 accounts that are not economic (public bodies, strategic accounts): CNY a year.
REVENUE_TIER1_NOT_ECONOMIC = (1_500_000, 0.3, 900_000, 4_200_000)
#: Public bodies ship documents: a fraction of what a company of the same tier ships.
PUBLIC_BODY_REVENUE = 0.06
#: Our share of the account's logistics spend (share of wallet) by relationship stage: a
#: supplier among many holds a few per cent, an integrated partner up to about four fifths.
WALLET_BY_STAGE: dict[str, tuple[float, float]] = {
    "exploratory": (0.04, 0.10),
    "basic": (0.08, 0.25),
    "cooperative": (0.20, 0.45),
    "interdependent": (0.40, 0.60),
    "integrated": (0.55, 0.75),
}


def share_of_wallet(stage: str, key: str) -> float:
    """Our share of an account's logistics spend: a point in its stage's band, fixed by
    ``key`` (the credit code), so that the archive (which writes the spend estimate) and
    the waybills (which earn the revenue) agree without storing the share."""
    low, high = WALLET_BY_STAGE.get(stage, WALLET_BY_STAGE["basic"])
    digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
    return low + (high - low) * int.from_bytes(digest, "big") / 2**64


#: The demo users' e-mail domain; with the username it tells a demo user from a real one.
DEMO_EMAIL_DOMAIN = "kam-demo.example"

# fmt: off
# Relative weight of each province (first two digits of the GB/T 2260 code).
PROVINCE_WEIGHTS = {
    "44": 16, "33": 12, "32": 12, "31": 10, "11": 8, "37": 7, "35": 5, "51": 4, "42": 3.5,
    "41": 3.5, "12": 3, "43": 2.5, "34": 2.5, "50": 2.5, "13": 2.5, "21": 2, "61": 2,
    "36": 1.5, "45": 1.5, "53": 1.2, "14": 1, "22": 0.8, "23": 0.8, "52": 0.8, "15": 0.6,
    "46": 0.5, "65": 0.5, "62": 0.4, "64": 0.2, "63": 0.15, "54": 0.05,
}
# Cities that draw more companies than their province's other cities.
CITY_WEIGHTS = {
    "440300": 10, "440100": 8, "441900": 5, "440600": 4, "441300": 1.5, "442000": 1.5,
    "320500": 8, "320100": 5, "320200": 4, "320400": 2, "320600": 2,
    "330100": 8, "330200": 5, "330300": 3, "330700": 3, "330600": 2, "330400": 2,
    "370200": 5, "370100": 4, "370600": 2, "370700": 1.5, "371300": 1.5,
    "350200": 5, "350100": 4, "350500": 4, "510100": 10, "420100": 8, "410100": 6,
    "430100": 6, "340100": 5, "130100": 3, "210100": 3, "210200": 4, "610100": 8,
    "360100": 4, "450100": 3, "530100": 5, "140100": 4, "520100": 4, "460100": 3,
}
# Trunk-line area codes for office numbers; elsewhere a plausible four-digit code.
AREA_CODES = {
    "110100": "010", "310100": "021", "440100": "020", "440300": "0755", "120100": "022",
    "500100": "023", "330100": "0571", "320100": "025", "320500": "0512", "510100": "028",
    "420100": "027", "610100": "029", "350200": "0592", "350100": "0591", "370200": "0532",
    "441900": "0769", "440600": "0757", "330200": "0574", "410100": "0371", "430100": "0731",
}

# Brands are two characters, one from each list; never a well-known real brand.
# Characters with one common reading only, so that the pinyin of the brand is right.
BRAND_FIRST = "华信达通瑞恒盛泰鑫源宏德康安博远嘉明晨天金永新雅汇丰宇创智联昌正星锦怡润佳益广隆"
BRAND_SECOND = "信达通瑞恒盛泰鑫源兴宏德康安博远航嘉利明晨海金永光美雅汇丰宇创智联顺昌星辰峰锦润佳"
BRAND_BLOCKLIST = {
    "华为", "中兴", "华润", "万达", "美的", "海信", "长虹", "康佳", "安踏", "顺丰", "韵达",
    "京东", "万科", "恒大", "海尔", "格力", "联想", "德邦", "百世", "宇通", "长安", "光明",
    "正泰", "汇源", "天润", "新华", "中信", "平安", "招商", "光大", "华夏", "兴业", "太平",
    "国泰", "隆基", "明阳", "信达", "宏达", "恒瑞", "华联", "联通", "永辉", "创维", "金龙",
}


@dataclass(frozen=True)
class IndustryProfile:
    weight: float
    words: Sequence[tuple[str, str]]  # (Chinese, English) word in the company name
    products: Sequence[str]
    spend_share: tuple[float, float]  # logistics spend as a share of output value


INDUSTRIES: dict[str, IndustryProfile] = {
    "apparel": IndustryProfile(
        14, [("服饰", "Apparel"), ("服装", "Garments"), ("纺织", "Textiles"),
             ("制衣", "Clothing"), ("时装", "Fashion")],
        ["男装", "女装", "童装", "运动服", "针织衫", "牛仔裤", "羽绒服", "内衣", "鞋帽"],
        (0.04, 0.07)),
    "it_electronics": IndustryProfile(
        18, [("电子", "Electronics"), ("科技", "Technology"),
             ("信息技术", "Information Technology"), ("智能科技", "Smart Technology"),
             ("微电子", "Microelectronics")],
        ["手机配件", "笔记本电脑", "服务器", "路由器", "集成电路", "显示模组", "智能穿戴设备",
         "电源适配器", "PCB电路板"],
        (0.015, 0.04)),
    "trade_forwarding": IndustryProfile(
        12, [("国际贸易", "International Trade"), ("进出口", "Import & Export"),
             ("国际货运代理", "International Freight Forwarding"),
             ("供应链管理", "Supply Chain Management")],
        ["进出口代理", "报关报检", "跨境集运", "海运订舱", "空运代理", "跨境电商小包"],
        (0.08, 0.15)),
    "electromechanical": IndustryProfile(
        12, [("机电", "Electromechanical"), ("机械", "Machinery"), ("电气", "Electric"),
             ("自动化设备", "Automation Equipment"), ("精密机械", "Precision Machinery")],
        ["数控机床", "工业机器人", "电机", "减速机", "变频器", "液压件", "阀门", "配电柜"],
        (0.02, 0.05)),
    "ecommerce": IndustryProfile(
        14, [("电子商务", "E-commerce"), ("网络科技", "Network Technology"),
             ("电商", "Online Retail"), ("数字商贸", "Digital Commerce")],
        ["家居日用", "美妆个护", "休闲零食", "数码配件", "母婴用品", "宠物用品", "家纺"],
        (0.08, 0.14)),
    "pharma": IndustryProfile(
        8, [("医药", "Pharmaceutical"), ("药业", "Pharma"), ("生物医药", "Biopharma"),
            ("医疗器械", "Medical Devices"), ("制药", "Pharmaceutical Manufacturing")],
        ["化学药制剂", "中成药", "疫苗", "医用耗材", "诊断试剂", "原料药", "保健品"],
        (0.03, 0.06)),
    "auto_parts": IndustryProfile(
        8, [("汽车零部件", "Auto Parts"), ("汽配", "Auto Components"),
            ("汽车部件", "Automotive Parts"), ("汽车电子", "Automotive Electronics")],
        ["刹车片", "滤清器", "车灯", "座椅", "线束", "轮毂", "车载中控", "雨刮器"],
        (0.03, 0.06)),
    "fresh_food": IndustryProfile(
        7, [("食品", "Foods"), ("冷链食品", "Cold Chain Foods"),
            ("农产品", "Agricultural Products"), ("生鲜", "Fresh Produce"), ("乳业", "Dairy")],
        ["冷冻肉品", "水产品", "乳制品", "鲜果", "速冻食品", "预制菜", "鲜花"],
        (0.08, 0.13)),
    "government": IndustryProfile(3, [], [], (0.0, 0.0)),
    "other": IndustryProfile(
        4, [("实业", "Industrial"), ("家居", "Home Furnishing"), ("建材", "Building Materials"),
            ("文化传媒", "Culture & Media"), ("日化", "Daily Chemicals")],
        ["家具", "建材", "日化用品", "图书", "办公用品", "灯具"],
        (0.03, 0.08)),
}

GROUP_KINDS = [
    ("集团有限公司", "Group Co., Ltd."),
    ("控股集团有限公司", "Holding Group Co., Ltd."),
    ("实业集团有限公司", "Industrial Group Co., Ltd."),
    ("集团股份有限公司", "Group Corporation Limited"),
]
# Public bodies: (Chinese name, English name, credit-code type: 1 organ, 2 institution, products).
AGENCIES = [
    ("{full}税务局", "{en} Municipal Tax Service", "1", "税务文书、发票寄递"),
    ("{short}海关", "{en} Customs", "1", "通关单证、查验样品寄递"),
    ("{full}中级人民法院", "{en} Intermediate People's Court", "1", "法律文书送达"),
    ("{full}人民医院", "{en} People's Hospital", "2", "检验样本、药品、病历寄递"),
    ("{full}中心医院", "{en} Central Hospital", "2", "检验样本、药品、病历寄递"),
    ("{full}公共资源交易中心", "{en} Public Resources Trading Center", "2", "标书与合同寄递"),
    ("{full}档案馆", "{en} Municipal Archives", "2", "档案调阅寄递"),
    ("{short}职业技术学院", "{en} Vocational and Technical College", "2", "录取通知书、教材"),
    ("{full}社会保险事业管理中心", "{en} Social Insurance Center", "2", "社保卡寄递"),
    ("{full}不动产登记中心", "{en} Real Estate Registration Center", "2", "不动产权证书寄递"),
    ("{full}住房公积金管理中心", "{en} Housing Provident Fund Center", "2", "公积金业务文书"),
    ("{full}出入境管理支队", "{en} Exit-Entry Administration", "1", "护照、通行证寄递"),
]

# Who supplies whom, for supplier ties between people at different customers.
SUPPLIES = {
    "electromechanical": ("auto_parts", "it_electronics", "other"),
    "it_electronics": ("ecommerce", "auto_parts", "electromechanical"),
    "apparel": ("ecommerce", "trade_forwarding"),
    "fresh_food": ("ecommerce", "other"),
    "pharma": ("government", "ecommerce"),
    "auto_parts": ("electromechanical", "other"),
    "trade_forwarding": ("apparel", "it_electronics", "electromechanical"),
}

EB, UB, TB = BuyingRole.ECONOMIC_BUYER, BuyingRole.USER_BUYER, BuyingRole.TECHNICAL_BUYER
COACH, OTHER = BuyingRole.COACH, BuyingRole.OTHER
HIGH, MEDIUM, LOW = Influence.HIGH, Influence.MEDIUM, Influence.LOW
# Org-chart templates: (title, department, index of the manager, buying role, influence).
# Managers come before their reports, so any chosen prefix-closed subset is a tree.
BIG_CHART = [
    ("总经理", "总经办", None, EB, HIGH),
    ("副总经理", "总经办", 0, OTHER, HIGH),
    ("供应链总监", "供应链管理部", 0, UB, HIGH),
    ("财务总监", "财务部", 0, TB, HIGH),
    ("物流经理", "物流部", 2, UB, MEDIUM),
    ("采购经理", "采购部", 1, TB, MEDIUM),
    ("仓储主管", "仓储部", 4, UB, LOW),
    ("IT经理", "信息技术部", 1, TB, MEDIUM),
    ("物流专员", "物流部", 4, UB, LOW),
    ("采购专员", "采购部", 5, TB, LOW),
    ("财务经理", "财务部", 3, OTHER, MEDIUM),
    ("系统工程师", "信息技术部", 7, TB, LOW),
    ("电商运营总监", "电商运营部", 1, UB, MEDIUM),
    ("客服经理", "客服部", 12, UB, LOW),
    ("关务主管", "关务部", 2, UB, LOW),
    ("质量经理", "质量部", 1, TB, LOW),
    ("行政经理", "行政部", 1, OTHER, LOW),
    ("法务经理", "法务部", 1, TB, LOW),
]
SMALL_CHART = [
    ("总经理", "总经办", None, EB, HIGH),
    ("物流经理", "物流部", 0, UB, MEDIUM),
    ("采购经理", "采购部", 0, TB, MEDIUM),
    ("仓储主管", "仓储部", 1, UB, LOW),
    ("财务经理", "财务部", 0, OTHER, MEDIUM),
    ("发货专员", "物流部", 1, UB, LOW),
]
GOV_CHART = [
    ("主要负责人", "领导班子", None, EB, HIGH),
    ("分管副职", "领导班子", 0, OTHER, HIGH),
    ("办公室主任", "办公室", 1, UB, MEDIUM),
    ("财务科科长", "财务科", 1, TB, MEDIUM),
    ("办公室副主任", "办公室", 2, UB, LOW),
    ("信息中心主任", "信息中心", 1, TB, MEDIUM),
    ("文书科科长", "办公室", 2, UB, LOW),
    ("收发员", "办公室", 6, UB, LOW),
    ("采购专员", "财务科", 3, TB, LOW),
    ("后勤服务中心主任", "后勤服务中心", 1, UB, MEDIUM),
    ("档案室主任", "档案室", 2, OTHER, LOW),
]
DUTIES = {
    "总经办": "全面负责公司经营，重大合同最终拍板",
    "领导班子": "单位全面工作，审批年度采购预算",
    "供应链管理部": "统筹采购、仓储与配送，制定物流外包策略",
    "物流部": "负责全国发货、承运商管理与时效考核",
    "采购部": "负责物流服务招标、比价与供应商评估",
    "财务部": "审批物流费用、对账与付款账期",
    "财务科": "审核寄递费用与结算",
    "仓储部": "负责仓库收发货、库存与拣货效率",
    "信息技术部": "负责WMS/ERP与承运商系统对接",
    "信息中心": "负责电子政务系统与寄递接口",
    "电商运营部": "负责电商平台运营与大促备货",
    "客服部": "负责售后、退换货与投诉处理",
    "关务部": "负责进出口报关与单证",
    "质量部": "负责来料与出货质量、包装标准",
    "行政部": "负责办公用品与行政寄递",
    "法务部": "审核物流服务合同条款",
    "办公室": "负责公文流转与对外寄递",
    "后勤服务中心": "负责后勤采购与物资配送",
    "档案室": "负责档案保管与调阅寄递",
}
HOBBIES = [
    "高尔夫", "钓鱼", "围棋", "茶道（偏爱普洱）", "马拉松", "羽毛球", "摄影", "书法", "自驾游",
    "红酒", "登山", "游泳", "乒乓球", "读历史书", "周末打篮球", "古典音乐", "骑行", "网球",
]
FAMILY = [
    "已婚，育有一子，正在读高中", "已婚，两个女儿，大女儿在国外读书", "已婚，孩子刚上小学",
    "单身", "已婚，爱人在银行工作", "与父母同住，很孝顺", "已婚，孩子今年高考",
    "已婚，育有一女，爱人是中学老师", "已婚，二胎刚出生", "已婚，孩子在读大学",
]
HABITS = [
    "上午9点前不接电话", "喜欢微信语音沟通，不爱长邮件", "开会准时，讨厌迟到", "不喝酒",
    "喜欢数据说话，汇报要带报表", "午饭后习惯散步", "周五下午一般在工厂", "重要事项需当面确认",
    "出差频繁，周一周二最好约", "回复邮件很快，电话常占线", "抽烟，喜欢在茶室谈事",
]
SOCIAL = [
    "{city}商会会员", "{province}同乡会理事", "EMBA同学会成员", "行业协会物流分会委员",
    "校友会活跃成员", "与当地海关、商务部门关系良好", "{city}青年企业家协会会员",
]
PERFORMANCE = [
    "去年物流成本下降6%，获评年度优秀", "今年KPI重点是准时交付率不低于98%",
    "刚升职半年，希望做出成绩", "上年度因延误事件被点名批评，对时效很敏感",
    "团队考核看库存周转天数", "连续三年优秀员工", "今年预算压缩10%，压力大",
]
GOALS = [
    "单票物流成本降低10%", "双十一旺季不爆仓", "实现全国48小时达", "电子面单与ERP自动对接",
    "退换货时效提升到3天内", "减少自有车队，干线转外包", "冷链全程温控可追溯",
    "物流供应商合并到3家以内", "出口单证零差错", "新品上市全国同步铺货",
]
ACCOUNT_NOTES = [
    "年度招标每年10月启动，需提前一个月准备方案。", "外资快递报价低约8%，正在比价。",
    "自建车队覆盖华东，干线仍外包。", "对时效投诉敏感，上季度有两次延误。",
    "计划明年上线新仓，可争取仓配一体化业务。", "付款账期60天，财务要求严格对账。",
    "新任供应链总监来自竞争对手的客户，需尽快建立关系。", "有代收货款需求，回款速度是关键。",
    "旺季（11月）需要预留舱位。", "希望开放API对接其ERP系统，实时查询订单。",
]
TIE_NOTES = {
    TieKind.COLLEAGUE: ["同属管理层，经常一起开会", "同一项目组", "私交不错，常一起午饭"],
    TieKind.FRIEND: ["高尔夫球友", "EMBA同学", "老乡", "大学同学", "孩子同校，家长群认识",
                     "同一商会"],
    TieKind.FAMILY: ["表兄弟", "夫妻", "姐弟", "亲家"],
}
STAFF_NOTES = ["多次走访", "年会上认识", "每月例会", "前任客户经理交接", "同乡", "一起打过球"]
CONSENT = [
    "{d} 交换名片时告知用途并取得同意",
    "{d} 签署业务联系人信息使用同意书",
    "履行物流服务合同所必需（个人信息保护法第十三条第一款第二项）",
    "{d} 电话告知并取得口头同意",
]
CONSENT_PURPOSE = "维护业务联系、安排走访与客户服务"
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183",
    "185", "186", "187", "188", "189", "198", "199",
]
# fmt: on
