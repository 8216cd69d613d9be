"""The language rules a reader's text must follow (issue 11), shared by the page check in Chromium
(tests/test_browser_pages.py) and the report check (tests/test_report.py): in Chinese, no
snake_case identifier, no English word outside a short list of proper terms and units, no ``10^4``;
in English, no Chinese (names and other data are left out by the caller)."""

from __future__ import annotations

import re

#: Proper terms that stay as they are in Chinese text (units, standards, formats, chemical formulas).
ALLOWED = set(
    [
        "HJ",
        "GB",
        "GB/T",
        "MN",
        "PW",
        "QN",
        "CN",
        "ST",
        "PM2.5",
        "PM10",
        "SO₂",
        "NO₂",
        "CO",
        "O₃",
        "CO₂",
        "COD",
        "NH₃",
        "API",
        "Webhook",  # the group robots' own word (企业微信 / 钉钉: Webhook地址)
        "SMTP",  # the mail protocols by their names, as Chinese mail settings name them
        "STARTTLS",
        "SSL/TLS",
        "Excel",
        "CSV",
        "AQI",
        "IAQI",
        "LMDI",
        "CCUS",
        "CCER",
        "IAMC",
        "pH",
        "km",
        "GJ",
        "TJ",
        "greenpark",
        "xlsx",
        "csv",
        "docx",
        "Word",
        "TCP",
        "ID",
        "VOCs",
        "IPCC",
        "NDRC",
        "MEE",
        "NBS",
        "MOST",
        "RAS",
        "PV",
        "UTC",
        "No",
        "v",
        "vs",
        "x",
        "E",
        "N",
        "S",
        "W",
        "I",
        "II",
        "III",
        "IV",
        "V",
        "δ",
        "P",
        "N₂O",
        "CH₄",
        "OpenAPI",
        "Swagger",
        "JSON",
        "HTTP",
        "HTTPS",
        "URL",
        "PDF",
        "OK",
        "GDP",
        "MiB",
        "MB",
        "KB",
    ]
)
#: SI units as Chinese standards print them (GB 3838 mg/L, GB 3095 μg/m³ …).
UNIT = re.compile(r"(?:[μmk]?g|m³|m3|L|h|s|dB|A|Nm³|Nm3)(?:/(?:m³|m3|L|h|s|d|Nm³|Nm3))?")
WORD = re.compile(r"[A-Za-z][A-Za-z0-9.₂₃₄³/]*")
SNAKE = re.compile(r"\b[a-z0-9]+_[a-z0-9_]+\b")
CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")


def problems(lang: str, texts: list[list[str]]) -> list[str]:
    out = []
    for where, text in texts:
        if lang == "zh":
            if "10^4" in text:
                out.append(f"{where}: '10^4' in {text!r}")
            snake = SNAKE.findall(text)
            if snake:
                out.append(f"{where}: identifier {snake[0]!r} in {text!r}")
            words = [w.rstrip("./") for w in WORD.findall(text.replace("μ", ""))]
            english = [
                w
                for w in words
                if w not in ALLOWED
                and len(w) > 1
                and not UNIT.fullmatch(w)
                and not re.fullmatch(r"[A-Z]?\d*[A-Za-z]?\d+.*", w)
            ]
            if english:
                out.append(f"{where}: English {english[:3]} in {text!r}")
        elif CJK.search(text):
            out.append(f"{where}: Chinese in {text!r}")
    return out
