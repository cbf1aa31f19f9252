"""Realistic French text for the generated returns: the vocabulary of a contrat de ville's
actions (their heads, publics, activities, goals, partners, places and rhythms) and the seeded
descriptions built from it."""

from __future__ import annotations

import random

HEADS = (
    "Accompagnement à la parentalité",
    "Médiation sociale de proximité",
    "Atelier sociolinguistique",
    "Programme de réussite éducative",
    "Chantier éducatif",
    "Permanence d'accès aux droits",
    "Gestion urbaine de proximité",
    "Jardin partagé",
    "Accompagnement à la scolarité",
    "Prévention spécialisée",
    "Atelier santé ville",
    "Café des parents",
    "Fête de quartier",
    "Médiation numérique",
    "Lutte contre le décrochage scolaire",
    "Éducation à la citoyenneté",
    "Sport en pied d'immeuble",
    "Forum de l'emploi",
    "Lieu d'accueil enfants-parents",
    "Coordination du contrat de ville",
)
PUBLICS = (
    "des familles",
    "des jeunes de 11 à 25 ans",
    "des parents d'élèves",
    "des seniors isolés",
    "des femmes éloignées de l'emploi",
    "des enfants des écoles élémentaires",
    "des collégiens",
    "des demandeurs d'emploi",
    "des habitants du quartier prioritaire",
    "des locataires du parc social",
    "des allocataires du RSA",
    "des primo-arrivants",
)
ACTIVITIES = (
    "des ateliers hebdomadaires",
    "un accompagnement individuel",
    "des permanences sans rendez-vous",
    "des sorties familiales",
    "des temps d'échange entre pairs",
    "des chantiers éducatifs",
    "un suivi renforcé",
    "des séances collectives",
    "une veille éducative",
    "des actions d'aller-vers",
)
GOALS = (
    "l'accès aux droits",
    "la réussite éducative",
    "le lien social",
    "l'insertion professionnelle",
    "la tranquillité publique",
    "la prévention santé",
    "l'apprentissage du français",
    "l'autonomie numérique",
    "la participation des habitants",
    "le soutien à la fonction parentale",
    "la mobilité",
    "l'amélioration du cadre de vie",
)
PARTNERS = (
    "le centre social",
    "la CAF",
    "les bailleurs sociaux",
    "la mission locale",
    "France Travail",
    "l'Éducation nationale",
    "le conseil citoyen",
    "les associations du quartier",
    "la PMI",
    "le CCAS",
    "la médiathèque",
    "le club de prévention",
)
PLACES = (
    "à la maison de quartier",
    "en pied d'immeuble",
    "au centre social",
    "dans les écoles du quartier",
    "à la médiathèque",
    "dans les locaux du CCAS",
    "sur l'espace public",
)
RHYTHMS = (
    "chaque semaine",
    "deux fois par mois",
    "pendant les vacances scolaires",
    "tout au long de l'année",
    "le mercredi après-midi",
    "en soirée",
)
SENTENCES = (
    "L'action propose {activity} {public} du quartier prioritaire, en lien avec {partner}.",
    "Les séances ont lieu {rhythm} {place}, animées par un professionnel qualifié.",
    "Elle vise à favoriser {goal} et à renforcer {goal2}.",
    "Le porteur mobilise {partner} et {partner2} pour repérer {public}.",
    "Un bilan qualitatif et quantitatif est présenté au comité de pilotage du contrat de ville.",
    "La médiation avec {partner} permet de lever les freins identifiés lors du diagnostic.",
    "L'accompagnement s'appuie sur {activity} organisés {place}.",
    "Les indicateurs suivis portent sur {goal} et sur le nombre de bénéficiaires.",
    "L'action s'inscrit dans l'axe du contrat de ville consacré à {goal}.",
)


def description(rng: random.Random) -> str:
    """300 to 1 500 characters of sentences drawn by ``rng``."""
    target = rng.randint(300, 1500)
    parts: list[str] = []
    size = -1
    while size < target:
        sentence = rng.choice(SENTENCES).format(
            activity=rng.choice(ACTIVITIES),
            public=rng.choice(PUBLICS),
            partner=rng.choice(PARTNERS),
            partner2=rng.choice(PARTNERS),
            place=rng.choice(PLACES),
            rhythm=rng.choice(RHYTHMS),
            goal=rng.choice(GOALS),
            goal2=rng.choice(GOALS),
        )
        parts.append(sentence)
        size += len(sentence) + 1
    text = " ".join(parts)
    if len(text) > 1500:
        text = text[:1500].rsplit(" ", 1)[0]
    return text
