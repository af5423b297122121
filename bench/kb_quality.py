"""Knowledge-base suggestion quality: 20 sample requests per language against examples/kb/.

    .venv/bin/python bench/kb_quality.py [--min-score 0.35]

Each request names the article a human would want first (or none, for requests the sample
knowledge base cannot answer). Prints, per language: how many on-topic requests get the right
article first, how many get a wrong one first, how many get nothing, and how many off-topic
requests correctly get nothing. Not a timed test.
"""

from __future__ import annotations

import argparse
import tempfile
from dataclasses import replace
from pathlib import Path

from maildesk.config import SelfServiceSettings
from maildesk.pipeline import kb
from maildesk.store import migrate
from maildesk.store.db import Database

KB = Path(__file__).resolve().parents[1] / "examples" / "kb"

# (subject, body, expected slug or None)
SAMPLES: dict[str, list[tuple[str, str, str | None]]] = {
    "en": [
        ("Printer broken", "My printer does not print anything since this morning.", "printer-not-printing"),
        ("printing problem", "Nothing comes out when I print, the job just sits in the queue.", "printer-not-printing"),
        ("Paper jam on 3rd floor", "The printer says paper jam but there is no paper inside.", "printer-not-printing"),
        ("VPN", "I cannot connect to the VPN from home, error 809.", "vpn-cannot-connect"),
        ("Remote access not working", "The VPN client keeps failing to connect.", "vpn-cannot-connect"),
        ("Forgot password", "I forgot my password and now my account is locked.", "password-reset"),
        ("Password reset please", "Please reset my password, I cannot log in.", "password-reset"),
        ("Mailbox full", "Outlook says my mailbox is full and I cannot send email.", "mailbox-full"),
        ("Email quota", "Can you increase my email quota? I keep getting storage warnings.", "mailbox-full"),
        ("wifi down", "The office wifi keeps dropping on my laptop.", "wifi-office"),
        ("Laptop won't turn on", "My laptop does not turn on, even with the charger plugged in.", "laptop-no-power"),
        ("Need Visio", "Could you install Visio? I need the software for a project.", "install-software"),
        ("Scan to email", "Scans from the multifunction scanner never arrive in my email.", "scanner-to-email"),
        ("New phone authenticator", "I got a new phone, how do I move my two-factor authenticator?", "mfa-new-phone"),
        ("Access to Finance share", "I need access to the finance shared folder on the network drive.",
         "shared-folder-access"),
        ("Mail on my phone", "How do I set up work email on my phone? Outlook does not sync.", "mail-on-phone"),
        ("Second screen black", "My monitor shows no signal after I moved desks.", "monitor-no-signal"),
        ("Coffee machine", "The coffee machine on the 2nd floor is leaking water.", None),
        ("Parking badge", "My parking badge expired, who renews it?", None),
        ("Invoice question", "We were charged twice for the March invoice.", None),
    ],
    "uk": [
        ("Не працює принтер", "Добрий день, не працює принтер у бухгалтерії.", "printer-not-printing"),
        ("Принтер", "Принтер не друкує, завдання висить у черзі друку.", "printer-not-printing"),
        ("Зім'ятий папір", "Принтер пише, що зім'явся папір, але паперу всередині немає.", "printer-not-printing"),
        ("VPN", "Не можу підключитися до VPN з дому, помилка 809.", "vpn-cannot-connect"),
        ("Віддалений доступ", "VPN-клієнт не підключається вже другий день.", "vpn-cannot-connect"),
        ("Забув пароль", "Я забув пароль, і тепер обліковий запис заблоковано.", "password-reset"),
        ("Скиньте пароль", "Будь ласка, скиньте мені пароль, не можу увійти.", "password-reset"),
        ("Скринька переповнена", "Outlook пише, що поштова скринька переповнена.", "mailbox-full"),
        ("Квота пошти", "Чи можна збільшити квоту пошти? Постійно попередження про місце.", "mailbox-full"),
        ("Wi-Fi", "В офісі постійно зникає Wi-Fi на ноутбуці.", "wifi-office"),
        ("Ноутбук", "Ноутбук не вмикається навіть із зарядкою.", "laptop-no-power"),
        ("Встановити програму", "Встановіть, будь ласка, програму Visio для проєкту.", "install-software"),
        ("Сканер", "Скани зі сканера не приходять на пошту.", "scanner-to-email"),
        ("Новий телефон", "Купив новий телефон, як перенести автентифікатор для двофакторної?", "mfa-new-phone"),
        ("Доступ до папки", "Потрібен доступ до спільної папки фінансового відділу.", "shared-folder-access"),
        ("Пошта на телефоні", "Як налаштувати робочу пошту на телефоні? Не синхронізується.", "mail-on-phone"),
        ("Монітор", "Монітор показує, що немає сигналу, після переїзду.", "monitor-no-signal"),
        ("Кавоварка", "Кавоварка на другому поверсі протікає.", None),
        ("Парковка", "Закінчилася перепустка на парковку, хто її продовжує?", None),
        ("Рахунок", "Нам двічі виставили рахунок за березень.", None),
    ],
    "ru": [
        ("Не работает принтер", "Здравствуйте, не работает принтер в бухгалтерии.", "printer-not-printing"),
        ("Принтер", "Принтер не печатает, задание висит в очереди печати.", "printer-not-printing"),
        ("Замятие бумаги", "Принтер пишет, что замялась бумага, но бумаги внутри нет.", "printer-not-printing"),
        ("VPN", "Не могу подключиться к VPN из дома, ошибка 809.", "vpn-cannot-connect"),
        ("Удалённый доступ", "VPN-клиент не подключается уже второй день.", "vpn-cannot-connect"),
        ("Забыл пароль", "Я забыл пароль, и теперь учётная запись заблокирована.", "password-reset"),
        ("Сбросьте пароль", "Пожалуйста, сбросьте мне пароль, не могу войти.", "password-reset"),
        ("Ящик переполнен", "Outlook пишет, что почтовый ящик переполнен.", "mailbox-full"),
        ("Квота почты", "Можно увеличить квоту почты? Постоянно предупреждения о месте.", "mailbox-full"),
        ("Wi-Fi", "В офисе постоянно пропадает Wi-Fi на ноутбуке.", "wifi-office"),
        ("Ноутбук", "Ноутбук не включается даже с зарядкой.", "laptop-no-power"),
        ("Установить программу", "Установите, пожалуйста, программу Visio для проекта.", "install-software"),
        ("Сканер", "Сканы со сканера не приходят на почту.", "scanner-to-email"),
        ("Новый телефон", "Купил новый телефон, как перенести аутентификатор для двухфакторной?", "mfa-new-phone"),
        ("Доступ к папке", "Нужен доступ к общей папке финансового отдела.", "shared-folder-access"),
        ("Почта на телефоне", "Как настроить рабочую почту на телефоне? Не синхронизируется.", "mail-on-phone"),
        ("Монитор", "Монитор показывает, что нет сигнала, после переезда.", "monitor-no-signal"),
        ("Кофемашина", "Кофемашина на втором этаже протекает.", None),
        ("Парковка", "Закончился пропуск на парковку, кто его продлевает?", None),
        ("Счёт", "Нам дважды выставили счёт за март.", None),
    ],
}


def main() -> None:
    """Index the sample knowledge base in a scratch SQLite database and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--min-score", type=float, default=SelfServiceSettings().min_score)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/kb.sqlite3")
        migrate.upgrade(db)
        kb.rebuild(db, replace(SelfServiceSettings(), kb_path=KB))
        print(f"min_score = {args.min_score}\n")
        print("| language | on-topic | relevant first | wrong first | nothing shown | off-topic, nothing shown |")
        print("| --- | --- | --- | --- | --- | --- |")
        with db.reading() as session:
            for language, samples in SAMPLES.items():
                row = _tally(session, language, samples, args.min_score)
                print(f"| {language} | {row[0]} | {row[1]} | {row[2]} | {row[3]} | {row[4]} |")
        db.dispose()


def _tally(session: object, language: str, samples: list[tuple[str, str, str | None]],
           min_score: float) -> tuple[int, int, int, int, str]:
    on_topic = right = wrong = nothing = quiet = 0
    off_topic = 0
    for subject, body, expected in samples:
        found = kb.ranked(session, subject, body, language, min_score, 3)  # type: ignore[arg-type]
        first = found[0].slug if found else None
        if expected is None:
            off_topic += 1
            quiet += first is None
            continue
        on_topic += 1
        right += first == expected
        wrong += first is not None and first != expected
        nothing += first is None
    return on_topic, right, wrong, nothing, f"{quiet}/{off_topic}"


if __name__ == "__main__":
    main()
