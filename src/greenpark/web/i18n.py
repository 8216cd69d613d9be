"""Interface strings in Chinese (default) and English."""

from __future__ import annotations

from fastapi import Request

LANGS = ("zh", "en")

T: dict[str, tuple[str, str]] = {
    "app": ("绿园 greenpark", "greenpark"),
    "cockpit": ("驾驶舱", "Cockpit"),
    "sankey": ("能源代谢平衡图", "Energy flow"),
    "inventory": ("能源与碳排放清单", "Inventory"),
    "import": ("数据导入", "Import"),
    "factors": ("因子库", "Factor sets"),
    "reproduce": ("方案数据复核", "Plan check"),
    "login": ("登录", "Log in"),
    "logout": ("退出", "Log out"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "year": ("年份", "Year"),
    "scope": ("范围", "Scope"),
    "boundary": ("统计范围", "Boundary"),
    "boundary_all": ("全社会/全部", "All"),
    "boundary_above_scale": ("规上工业", "Above-scale industry"),
    "energy": ("综合能耗", "Energy use"),
    "energy_calorific": ("综合能耗（当量值）", "Energy (calorific equivalent)"),
    "energy_equal": ("综合能耗（等价值）", "Energy (equal value)"),
    "co2": ("二氧化碳排放", "CO₂ emissions"),
    "co2_per_gdp": ("单位GDP碳排放", "CO₂ per GDP"),
    "energy_per_gdp": ("单位GDP能耗", "Energy per GDP"),
    "energy_per_iva": ("单位工业增加值能耗", "Energy per industrial value added"),
    "by_year": ("历年能耗与排放", "Energy and CO₂ by year"),
    "carrier_mix": ("分品种能源结构", "Energy by carrier"),
    "sector_mix": ("分部门能源结构", "Energy by sector"),
    "co2_mix": ("排放来源", "CO₂ by source"),
    "target_path": ("单位工业增加值综合能耗与目标", "Energy per industrial value added vs targets"),
    "target": ("目标", "Target"),
    "actual": ("实际", "Actual"),
    "most_line": ("国家要求", "National requirement"),
    "checks": ("数据一致性检查", "Consistency checks"),
    "lineage": ("数据溯源", "Lineage"),
    "factors_used": ("所用因子", "Factors used"),
    "method": ("计算方法", "Method"),
    "records": ("原始记录", "Records"),
    "carrier": ("能源品种", "Carrier"),
    "sector": ("部门", "Sector"),
    "quantity": ("实物量", "Quantity"),
    "unit": ("单位", "Unit"),
    "share": ("占比", "Share"),
    "source": ("来源", "Source"),
    "status": ("状态", "Status"),
    "value": ("数值", "Value"),
    "download_template": ("下载导入模板", "Download template"),
    "upload": ("上传并导入", "Upload and import"),
    "import_ok": ("导入成功", "Imported"),
    "import_rejected": ("文件被拒绝，未导入任何数据", "File rejected; nothing was imported"),
    "file": ("文件", "File"),
    "sheet": ("工作表", "Sheet"),
    "row": ("行", "Row"),
    "column": ("列", "Column"),
    "reason": ("原因", "Reason"),
    "export_xlsx": ("导出 Excel", "Export xlsx"),
    "restatements": ("因子更新后的重算", "Restatements after factor updates"),
    "old": ("原值", "Old"),
    "new": ("新值", "New"),
    "plan": ("方案值", "Plan"),
    "computed": ("系统计算值", "greenpark"),
    "diff": ("相对差", "Difference"),
    "language": ("English", "中文"),
    "environment": ("环境质量", "Environment"),
    "station": ("站点", "Station"),
    "aqi_calendar": ("空气质量日历（AQI）", "Daily AQI calendar"),
    "annual_eval": ("年度评价（HJ 663）", "Annual evaluation (HJ 663)"),
    "pollutant_trend": ("污染物日均浓度与标准限值", "Daily concentrations against limits"),
    "water_sections": ("水环境功能区划（GB 3838 目标类别）", "Water sections (GB 3838 target class)"),
    "noise_zones": ("声环境功能区（GB 3096 限值）", "Noise zones (GB 3096 limits)"),
    "composite_index": ("综合指数", "Composite index"),
    "good_days": ("优良天数", "Good days"),
    "synthetic_note": (
        "小时数据为系统按站点年均值生成的模拟数据（非监测数据），仅用于演示。",
        "The hourly data are synthetic, generated to match the station's published annual values (not measurements); for demonstration only.",
    ),
    "indicators": ("指标与可达性", "Indicators"),
    "roadmap": ("碳达峰路线图", "Carbon-peak roadmap"),
    "projects": ("任务与项目", "Tasks and projects"),
    "land": ("亩均与闲置地", "Land use"),
    "monitoring": ("污染源监控", "Source monitoring"),
    "alarms": ("预警中心", "Alarms"),
    "enterprises": ("一企一档", "Enterprise file"),
    "tracing": ("排口溯源", "River tracing"),
    "outlet": ("排口", "Outlet"),
    "sources_note": (
        "演示企业的排口、限值与设备为示意数据；监测数据由模拟器生成（非实测）。",
        "The demo enterprises' outlets, limits and devices are illustrative; the monitoring data come from the simulator (not measurements).",
    ),
    "unknown_devices": (
        "待认领设备（未登记 MN 或密码错误）",
        "Unknown devices (unregistered MN or wrong PW)",
    ),
    "adopt": ("认领", "Adopt"),
    "time_sync": ("校时（1012）", "Set device time (1012)"),
    "acknowledge": ("确认", "Acknowledge"),
    "close": ("关闭", "Close"),
    "login_needed": ("请先登录", "Please log in"),
    "no_data": ("暂无数据", "No data"),
    "via_total": (
        "数据未给出分品种分部门矩阵，能流经“终端能耗合计”节点，不做推断分配。",
        "The data give no carrier x sector matrix, so flows pass through a total node; nothing is allocated by assumption.",
    ),
    "tce": ("吨标准煤", "tce"),
    "t_co2": ("吨二氧化碳", "tCO₂"),
    "signed_in_as": ("当前用户", "Signed in as"),
    "bad_login": ("用户名或密码错误", "Wrong username or password"),
    "convention_note": (
        "电力按当量值 0.1229 kgce/kWh 折标；等价值按当年供电煤耗。",
        "Electricity at the calorific equivalent 0.1229 kgce/kWh; equal value at the year's coal rate of power supply.",
    ),
}


def lang_of(request: Request) -> str:
    q = request.query_params.get("lang")
    if q in LANGS:
        return q
    c = request.cookies.get("lang")
    if c in LANGS:
        return c
    return str(request.app.state.settings.language)


def translator(lang: str) -> dict[str, str]:
    i = 0 if lang == "zh" else 1
    return {k: v[i] for k, v in T.items()}
