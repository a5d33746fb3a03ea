"""What each notification says, in Kazakh, Russian and English.

Placeholders are ``str.format`` names filled by :mod:`notifications.domain.render`:
money is already formatted, counted words already agree with their number. A template
keyed ``body_<variant>`` is used when the renderer picks that variant (say, no deadline
known).
"""

TEMPLATES = {
    "donation.received": {
        "kk": {
            "title": "Жаңа жарна: «{campaign_title}»",
            "body": "«{campaign_title}» науқанына {amount} көлемінде жарна түсті.",
            "body_anonymous": "Біреу «{campaign_title}» науқанына жасырын түрде {amount} аударды.",
        },
        "ru": {
            "title": "Новое пожертвование: «{campaign_title}»",
            "body": "На кампанию «{campaign_title}» поступило пожертвование {amount}.",
            "body_anonymous": "Кто-то анонимно пожертвовал {amount} на кампанию «{campaign_title}».",
        },
        "en": {
            "title": "New donation to “{campaign_title}”",
            "body": "A backer donated {amount} to “{campaign_title}”.",
            "body_anonymous": "Someone anonymous donated {amount} to “{campaign_title}”.",
        },
    },
    "donation.succeeded": {
        "kk": {
            "title": "Жарнаңызға рақмет!",
            "body": "«{campaign_title}» науқанына {amount} жарнаңыз сәтті өтті.",
        },
        "ru": {
            "title": "Спасибо за пожертвование!",
            "body": "Ваше пожертвование {amount} на кампанию «{campaign_title}» прошло успешно.",
        },
        "en": {
            "title": "Thank you for your donation!",
            "body": "Your donation of {amount} to “{campaign_title}” went through.",
        },
    },
    "donation.refunded": {
        "kk": {
            "title": "Жарна қайтарылды",
            "body": "«{campaign_title}» науқанына жасаған жарнаңыздан {amount} қайтарылды.",
        },
        "ru": {
            "title": "Возврат пожертвования",
            "body": "Вам возвращено {amount} из пожертвования на кампанию «{campaign_title}».",
        },
        "en": {
            "title": "Donation refunded",
            "body": "{amount} of your donation to “{campaign_title}” has been refunded.",
        },
    },
    "campaign.approved": {
        "kk": {
            "title": "Науқаныңыз жарияланды",
            "body": "«{title}» науқаны модерациядан өтті. Жарна жинау {days} бойы жалғасады.",
            "body_undated": "«{title}» науқаны модерациядан өтті және жарна қабылдай бастады.",
        },
        "ru": {
            "title": "Ваша кампания опубликована",
            "body": "Кампания «{title}» прошла модерацию. Сбор средств продлится {days}.",
            "body_undated": "Кампания «{title}» прошла модерацию и принимает пожертвования.",
        },
        "en": {
            "title": "Your campaign is live",
            "body": "“{title}” passed review and will accept donations for {days}.",
            "body_undated": "“{title}” passed review and now accepts donations.",
        },
    },
    "campaign.rejected": {
        "kk": {
            "title": "Науқан модерациядан өтпеді",
            "body": "«{title}» науқанын модератор қабылдамады. Себебі: {reason}",
        },
        "ru": {
            "title": "Кампания не прошла модерацию",
            "body": "Модератор отклонил кампанию «{title}». Причина: {reason}",
        },
        "en": {
            "title": "Your campaign was not approved",
            "body": "A moderator rejected “{title}”. Reason: {reason}",
        },
    },
    "campaign.succeeded": {
        "kk": {
            "title": "Науқан сәтті аяқталды",
            "body": "«{title}» науқаны {raised_amount} жинады (мақсаты — {goal_amount}).",
        },
        "ru": {
            "title": "Кампания успешно завершена",
            "body": "Кампания «{title}» собрала {raised_amount} при цели {goal_amount}.",
        },
        "en": {
            "title": "Your campaign succeeded",
            "body": "“{title}” raised {raised_amount} towards its goal of {goal_amount}.",
        },
    },
    "campaign.failed": {
        "kk": {
            "title": "Науқан мақсатына жетпеді",
            "body": "«{title}» науқаны {raised_amount} жинады, мақсаты {goal_amount} еді. "
                    "Барлық жарна демеушілерге қайтарылады.",
        },
        "ru": {
            "title": "Кампания не достигла цели",
            "body": "Кампания «{title}» собрала {raised_amount} из {goal_amount}. "
                    "Все пожертвования будут возвращены.",
        },
        "en": {
            "title": "Your campaign did not reach its goal",
            "body": "“{title}” raised {raised_amount} of {goal_amount}. "
                    "Every donation will be refunded to its backer.",
        },
    },
    "application.offered": {
        "kk": {
            "title": "Сізге орын ұсынылды",
            "body": "«{program_title}» бағдарламасынан сізге орын ұсынылды. "
                    "Ұсынысты қабылдауға {days} қалды.",
            "body_undated": "«{program_title}» бағдарламасынан сізге орын ұсынылды.",
        },
        "ru": {
            "title": "Вам предложено место",
            "body": "Вам предложено место в программе «{program_title}». "
                    "Чтобы принять предложение, у вас есть {days}.",
            "body_undated": "Вам предложено место в программе «{program_title}».",
        },
        "en": {
            "title": "You have been offered a place",
            "body": "You are offered a place in “{program_title}”. You have {days} to accept it.",
            "body_undated": "You are offered a place in “{program_title}”.",
        },
    },
    "application.waitlisted": {
        "kk": {
            "title": "Сіз күту тізіміндесіз",
            "body": "«{program_title}» бағдарламасындағы орындар әзірге толық. "
                    "Орын босаса, ол сізге ұсынылады.",
        },
        "ru": {
            "title": "Вы в листе ожидания",
            "body": "Все места в программе «{program_title}» пока заняты. "
                    "Если место освободится, мы предложим его вам.",
        },
        "en": {
            "title": "You are on the waiting list",
            "body": "All places in “{program_title}” are taken for now. "
                    "If one frees up, it will be offered to you.",
        },
    },
    "application.enrolled": {
        "kk": {
            "title": "Сіз оқуға қабылдандыңыз",
            "body": "«{program_title}» бағдарламасына қош келдіңіз! Орныңыз расталды.",
        },
        "ru": {
            "title": "Вы зачислены",
            "body": "Добро пожаловать в программу «{program_title}»! Ваше место подтверждено.",
        },
        "en": {
            "title": "You are enrolled",
            "body": "Welcome to “{program_title}”! Your place is confirmed.",
        },
    },
    "pool.exhausted": {
        "kk": {
            "title": "Қосымша қаржыландыру қоры таусылды",
            "body": "«{name}» қорыңыздың бюджеті толығымен жұмсалды. Рақмет!",
        },
        "ru": {
            "title": "Фонд софинансирования исчерпан",
            "body": "Бюджет вашего фонда софинансирования «{name}» полностью израсходован. Спасибо!",
        },
        "en": {
            "title": "Your matching pool is used up",
            "body": "The whole budget of your matching pool “{name}” has been matched. Thank you!",
        },
    },
    "pool.expired": {
        "kk": {
            "title": "Қордың мерзімі аяқталды",
            "body": "«{name}» қорының мерзімі аяқталды. Жұмсалмаған {remaining_amount} сізге қайтарылады.",
        },
        "ru": {
            "title": "Срок фонда софинансирования истёк",
            "body": "Срок действия фонда «{name}» истёк. Неиспользованные {remaining_amount} "
                    "будут возвращены вам.",
        },
        "en": {
            "title": "Your matching pool has expired",
            "body": "Your matching pool “{name}” has expired. The unused {remaining_amount} "
                    "will be refunded to you.",
        },
    },
}

NOTIFICATION_TYPES = tuple(TEMPLATES)
