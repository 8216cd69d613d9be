"""HJ 212 protocol vocabulary and the platform's side of the message flows: command codes, reply
and result codes, data flags, the replies a platform sends, and subpacket reassembly. Pure: no I/O.

References
----------
HJ 212-2017 §6.5 (message flows), §6.6.4 Table 8 (data flags), §6.6.5 Table 9 (commands),
Tables 6-7 (ExeRtn, QnRtn), Appendix C (examples C.14-C.18, C.21, C.49-C.50);
shared/research/hj212-and-env-standards.md §1.6-§1.10 (2005 and 2025 differences, secondary).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from greenpark.hj212.codec import CP, MAX_SEGMENT, Frame, build, crc16, make_frame

#: CN -> (name_zh, name_en). 2017 Table 9; 2025 additions marked (secondary source).
COMMANDS: dict[str, tuple[str, str]] = {
    "1000": ("设置超时时间及重发次数", "set timeout and retries"),
    "1011": ("提取/上传现场机时间", "get / upload device time"),
    "1012": ("设置现场机时间", "set device time"),
    "1013": ("现场机时间校准请求", "time calibration request"),
    "1061": ("提取/上传实时数据间隔", "get / upload real-time interval"),
    "1062": ("设置实时数据间隔", "set real-time interval"),
    "1063": ("提取/上传分钟数据间隔", "get / upload minute interval"),
    "1064": ("设置分钟数据间隔", "set minute interval"),
    "1072": ("设置现场机访问密码", "set access password"),
    "2011": ("实时数据", "real-time data"),
    "2012": ("停止察看实时数据", "stop real-time data"),
    "2021": ("设备运行状态", "equipment running state"),
    "2022": ("停止察看设备运行状态", "stop equipment state"),
    "2031": ("日数据", "daily data"),
    "2041": ("设备运行时间日历史数据", "daily equipment running time"),
    "2051": ("分钟数据", "minute data"),
    "2061": ("小时数据", "hourly data"),
    "2081": ("数采仪开机时间", "data-logger power-on time"),
    "3011": ("零点校准量程校准", "zero / span calibration"),
    "3012": ("即时采样", "immediate sampling"),
    "3013": ("启动清洗/反吹", "cleaning / blowback"),
    "3014": ("比对采样", "comparison sampling"),
    "3015": ("超标留样", "over-limit sample retention"),
    "3016": ("设置采样时间周期", "set sampling period"),
    "3017": ("提取采样时间周期", "get sampling period"),
    "3018": ("提取出样时间", "get sample output time"),
    "3019": ("提取设备唯一标识", "get instrument serial"),
    "3020": ("提取现场机信息", "get site information"),
    "3021": ("设置现场机参数", "set site parameters"),
    "9011": ("请求应答", "request reply"),
    "9012": ("执行结果", "execution result"),
    "9013": ("通知应答", "notice reply"),
    "9014": ("数据应答", "data reply"),
    # HJ 212-2025 additions (secondary: caoyiliang/HJ212 Enum.cs)
    "1001": ("上传数采仪硬件序号 (2025)", "upload data-logger hardware serial (2025)"),
    "1002": ("设置数采仪MN编码 (2025)", "set data-logger MN (2025)"),
    "1014": ("密钥获取/下发 (2025)", "get / issue new key (2025)"),
    "2013": ("原始监测数据 (2025)", "raw monitoring data (2025)"),
    "2052": ("噪声单次测量数据 (2025)", "single noise measurement (2025)"),
    "2062": ("自动标样核查校准数据 (2025)", "automatic standard-sample check data (2025)"),
    "2111": ("炉膛温度5分钟均值 (2025)", "furnace temperature 5-min mean (2025)"),
    "3022": ("下发即时留样任务 (2025)", "immediate sample retention task (2025)"),
    "3024": ("启动标样核查 (2025)", "start standard-sample check (2025)"),
    "9015": ("心跳包 (2025)", "heartbeat (2025)"),
}
#: Uploads that carry monitoring data and want a 9014 when their A bit is set (Appendix C).
DATA_UPLOADS = frozenset(
    {"2011", "2021", "2031", "2041", "2051", "2061", "2081", "3020", "2013", "2052", "2062", "2111"}
)

#: QnRtn, HJ 212-2017 Table 7.
QN_RTN = {
    1: "准备执行请求",
    2: "请求被拒绝",
    3: "PW错误",
    4: "MN错误",
    5: "ST错误",
    6: "Flag错误",
    7: "QN错误",
    8: "CN错误",
    9: "CRC校验错误",
    100: "未知错误",
}
#: ExeRtn, HJ 212-2017 Table 6.
EXE_RTN = {
    1: "执行成功",
    2: "执行失败，但不知道原因",
    3: "命令请求条件错误",
    4: "通讯超时",
    5: "系统繁忙不能执行",
    6: "系统故障",
    100: "没有数据",
}

#: Data flags, HJ 212-2017 §6.6.4 Table 8.
DATA_FLAGS_2017 = {
    "N": ("在线监控（监测）仪器仪表工作正常", "normal"),
    "F": ("在线监控（监测）仪器仪表停运", "instrument stopped"),
    "M": ("在线监控（监测）仪器仪表处于维护期间产生的数据", "maintenance"),
    "S": ("手工输入的设定值", "manually entered value"),
    "D": ("在线监控（监测）仪器仪表故障", "instrument fault"),
    "C": ("在线监控（监测）仪器仪表处于校准状态", "calibrating"),
    "T": ("在线监控（监测）仪器仪表采样数值超过测量上限", "above measuring range"),
    "B": ("在线监控（监测）仪器仪表与数采仪通讯异常", "communication failure"),
}
#: HJ/T 212-2005 flags (secondary): pollution sources, and air-quality stations (0-3).
DATA_FLAGS_2005 = {
    "P": ("电源故障", "power failure"), "F": ("排放源停运", "source stopped"), "C": ("校验", "calibration"),
    "M": ("维护", "maintenance"), "T": ("超测上限", "above range"), "D": ("故障", "fault"),
    "S": ("设定值", "set value"), "N": ("正常", "normal"),
    "0": ("校准数据", "calibration data"), "1": ("气象参数", "meteorological"), "2": ("异常数据", "abnormal data"),
    "3": ("正常数据", "normal data"),
}  # fmt: skip

#: Flag of the platform's replies: HJ 212-2017 version bits, no reply wanted (Appendix C: Flag=4).
REPLY_FLAG = 4
#: ST of system-interaction replies (Table 5).
ST_SYSTEM = "91"


def flag_meaning(flag: str, edition: str | None) -> tuple[str, str] | None:
    """(zh, en) meaning of a data flag in the frame's edition (F changed meaning in 2017)."""
    table = DATA_FLAGS_2005 if edition == "2005" else DATA_FLAGS_2017
    return table.get(flag)


def _reply(to: Frame, cn: str, cp: list[tuple[str, str]]) -> Frame:
    return make_frame(qn=to.qn, st=ST_SYSTEM, cn=cn, pw=to.pw or "", mn=to.mn or "", flag=REPLY_FLAG, cp=cp)


def data_reply(to: Frame) -> Frame:
    """9014 data reply to an upload with A = 1: same QN, PW and MN; ST=91; Flag=4; CP=&&&& (C.14).

    Examples
    --------
    >>> from greenpark.hj212.codec import build, parse
    >>> up = parse(b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\\r\\n")
    >>> data_reply(up).segment()
    'QN=20160801085857223;ST=91;CN=9014;PW=100000;MN=010000A8900016F000169DC0;Flag=4;CP=&&&&'
    >>> len(build(data_reply(up)))  # ## + 0087 + 87 + CRC + CR LF
    99
    """
    return _reply(to, "9014", [])


def data_reply_bytes(to: Frame) -> bytes:
    """``build(data_reply(to))``, formatted directly (the server sends one per upload).

    >>> from greenpark.hj212.codec import build, parse
    >>> up = parse(b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\\r\\n")
    >>> data_reply_bytes(up) == build(data_reply(up))
    True
    """
    qn, pw, mn = to.qn, to.pw or "", to.mn or ""
    seg = (
        f"QN={qn};" if qn is not None else ""
    ) + f"ST={ST_SYSTEM};CN=9014;PW={pw};MN={mn};Flag={REPLY_FLAG};CP=&&&&"
    data = seg.encode("utf-8")
    if len(data) > MAX_SEGMENT:
        return build(data_reply(to))  # raises the codec's error
    return b"##%04d%s%04X\r\n" % (len(data), data, crc16(data))


def request_reply(to: Frame, qn_rtn: int = 1) -> Frame:
    """9011 request reply (QnRtn, Table 7)."""
    if qn_rtn not in QN_RTN:
        raise ValueError(f"QnRtn must be one of {sorted(QN_RTN)}")
    return _reply(to, "9011", [("QnRtn", str(qn_rtn))])


def execution_result(to: Frame, exe_rtn: int = 1) -> Frame:
    """9012 execution result (ExeRtn, Table 6)."""
    if exe_rtn not in EXE_RTN:
        raise ValueError(f"ExeRtn must be one of {sorted(EXE_RTN)}")
    return _reply(to, "9012", [("ExeRtn", str(exe_rtn))])


def notice_reply(to: Frame) -> Frame:
    """9013 notice reply (e.g. to a 1013 time-calibration request)."""
    return _reply(to, "9013", [])


def needs_reply(frame: Frame) -> str | None:
    """The CN the platform must answer with, or None: 9014 for uploads with A = 1, 9013 for 1013."""
    if frame.cn == "1013":
        return "9013"
    if frame.ack_wanted and frame.cn in DATA_UPLOADS:
        return "9014"
    return None


@dataclass
class Reassembler:
    """Joins subpackets (PNUM/PNO) of one message: same MN, CN and DataTime (Appendix C.50 — each
    subpacket has its own QN and repeats DataTime). Returns the merged frame when all are in."""

    pending: dict[tuple[str, str, str], dict[int, Frame]] = field(default_factory=dict)

    def add(self, frame: Frame) -> Frame | None:
        if not frame.subpacketed:
            return frame
        key = (frame.mn or "", frame.cn or "", frame.cp.get("DataTime") or frame.qn or "")
        parts = self.pending.setdefault(key, {})
        parts[frame.pno or 1] = frame
        total = frame.pnum or 1
        if len(parts) < total or any(n not in parts for n in range(1, total + 1)):
            return None
        del self.pending[key]
        first = parts[1]
        items = list(first.cp.items)
        for n in range(2, total + 1):
            items += [
                (";" if i == 0 else sep, k, v)
                for i, (sep, k, v) in enumerate(parts[n].cp.items)
                if k != "DataTime"
            ]
        fields = [(k, v) for k, v in first.fields if k not in ("PNUM", "PNO")]
        return Frame(fields, CP(items), [d for n in range(1, total + 1) for d in parts[n].deviations])
