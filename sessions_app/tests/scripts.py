"""Generated session documents in many scripts, for token-budget tests (issue #15, issue #20 finding 10).

Each generator makes prose-like text from a small vocabulary of its script: English,
Russian, emoji-laden notes, Python code, Thai, Chinese and Japanese, Arabic, Devanagari,
rare symbols and random letter strings.
"""

from __future__ import annotations

import random
import string

_WORDS = {
    "english": "the deploy worker cache session budget token staging migration fixed failed next "
    "step database redis encrypted review release branch sync webhook".split(),
    "russian": "сегодня мы завершили миграцию базы данных исправили кэш следующий шаг развёртывание "
    "проверить бэкапы сессия токен".split(),
    "thai": "การพัฒนา ระบบ นี้ ใช้เวลา หลาย สัปดาห์ เรา ได้ ทดสอบ การเชื่อมต่อ ฐานข้อมูล และ แก้ไข "
    "ข้อผิดพลาด ขั้นตอน ต่อไป คือ ปรับปรุง ประสิทธิภาพ เซิร์ฟเวอร์".split(),
    "cjk": "我们 今天 完成 了 数据库 迁移 并 修复 缓存 问题 下一步 部署 生产 环境 監視 今日は "
    "データベース 移行 完了 しました".split(),
    "arabic": "قمنا اليوم بإكمال ترحيل قاعدة البيانات وإصلاح مشكلة طبقة التخزين المؤقت الخطوة التالية "
    "هي النشر في بيئة الإنتاج".split(),
    "devanagari": "आज हमने डेटाबेस माइग्रेशन पूरा किया और कैश परत की समस्या को ठीक किया अगला कदम "
    "उत्पादन वातावरण में तैनाती है".split(),
}
_EMOJI = "✅🚀🔥💡📋🔄⚠️🛑🎉👍🏽🧪🗓️❌✔️🤖"
_SYMBOLS = "".join(chr(c) for c in range(0x2190, 0x2BFF, 7)) + "∮∯∰⨀⨁⨂⟰⟱⤀⤁⥀⥁"
_CODE = '''def {name}(value: int) -> dict[str, int]:
    """Return {name} for ``value``."""
    result = {{"{name}": value * {n}, "size": len(str(value))}}
    if value > {n}:  # guard
        raise ValueError(f"too large: {{value!r}}")
    return result
'''
SCRIPTS = (*_WORDS, "emoji", "code", "symbols", "random_words")


def document(script: str, size: int, seed: int = 0) -> str:
    """A markdown session document of about ``size`` characters in ``script``."""
    rng = random.Random(f"{script}:{seed}")
    parts = [f"# {script} session {seed}\n\n**Date:** 2026-01-{1 + seed % 28:02d}\n\n"]
    while sum(map(len, parts)) < size:
        parts.append(_paragraph(script, rng) + "\n\n")
    return "".join(parts)[:size]


def _paragraph(script: str, rng: random.Random) -> str:
    if script in _WORDS:
        sentence = " ".join(rng.choice(_WORDS[script]) for _ in range(rng.randint(5, 30)))
        return ("- " if rng.random() < 0.3 else "") + sentence + "."
    if script == "emoji":
        words = _WORDS["english"]
        return " ".join(
            rng.choice(words) + (rng.choice(_EMOJI) if rng.random() < 0.4 else "") for _ in range(20)
        )
    if script == "code":
        return "```python\n" + _CODE.format(name=rng.choice(_WORDS["english"]), n=rng.randint(1, 999)) + "```"
    if script == "symbols":
        return "".join(rng.choice(_SYMBOLS) + (" " if rng.random() < 0.2 else "") for _ in range(120))
    letters = string.ascii_letters + "0123456789"
    return " ".join("".join(rng.choice(letters) for _ in range(rng.randint(1, 14))) for _ in range(40))
