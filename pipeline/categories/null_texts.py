"""Off-topic texts written by us: what unrelated material scores against a category list, the null side of every
calibrated threshold (themes: ``OFF_TOPIC_SENTENCES``; single answers: ``SURVEY_REGISTER_NULL``)."""
from __future__ import annotations

# Written by us: neutral sentences on topics no survey about health-service planning is about. They give the
# scores an unrelated theme gets, one side of the emergent-threshold calibration.
OFF_TOPIC_SENTENCES: tuple[str, ...] = (
    "The recipe needs two eggs and a cup of flour.",
    "We went hiking in the mountains last summer.",
    "The football match ended in a goalless draw.",
    "My cat likes to sleep on the windowsill in the afternoon.",
    "The train to the coast was delayed by twenty minutes.",
    "She painted the kitchen a pale shade of yellow.",
    "The museum opened a new exhibition of ancient coins.",
    "Tomatoes grow best in a sunny, sheltered spot.",
    "He practises the violin for an hour every evening.",
    "The bakery on the corner sells fresh bread at dawn.",
    "A thunderstorm knocked out the power overnight.",
    "The novel follows two sisters across three decades.",
    "Our neighbours are building an extension at the back.",
    "The river freezes over in a very cold winter.",
    "I prefer tea to coffee in the mornings.",
    "The band released their third album last month.",
    "Penguins huddle together to stay warm.",
    "The chess tournament lasted four days.",
    "He lost his umbrella on the bus again.",
    "The garden fence needs a fresh coat of paint.",
    "The telescope showed the rings of Saturn clearly.",
    "She knitted a scarf for her grandson.",
    "The ferry crossing was calm and sunny.",
    "The recipe calls for fresh basil and garlic.",
    "Our dog barks at the postman every morning.",
    "The mountain village has one small shop.",
    "They danced until midnight at the wedding.",
    "The old clock in the hall chimes every hour.",
    "A new coffee shop opened near the station.",
    "The children built a sandcastle on the beach.",
    "The film was too long and the ending was weak.",
    "Bees visit the lavender all through July.",
    "He repaired the bicycle puncture with a patch kit.",
    "The choir rehearses in the church hall on Thursdays.",
    "Snow fell heavily across the hills overnight.",
    "The crossword was harder than usual today.",
)


# Off-topic sentences in a survey answer's register (what respondents write that is about nothing in the closed
# list): the null for the zero-shot claim threshold, whose segments are answers, not themes.
SURVEY_REGISTER_NULL: tuple[str, ...] = (
    "The weather was lovely on the day we met.", "I filled this in on my phone during lunch.",
    "Thank you for asking my views.", "The questionnaire took about ten minutes to complete.",
    "My favourite food is pasta with tomato sauce.", "We moved offices to the third floor last spring.",
    "I have been in this job for six years.", "The car park is being resurfaced next month.",
    "Please send me a copy of the results.", "Our team won the quiz night at the local pub.",
    "I am not sure what this question is asking.", "The train was late again this morning.",
    "We painted the meeting room a brighter colour.", "My children started at a new school in September.",
    "The coffee machine on our floor is broken.", "I prefer to answer surveys by email.",
    "The printer keeps running out of paper.", "I enjoy walking in the hills at weekends.",
    "There was a fire drill in the building yesterday.", "The website font is too small to read easily.",
    "Some of the questions were repeated twice.", "I would like the results broken down by region.",
    "We celebrated a colleague's retirement last week.", "The canteen now serves vegetarian options.",
)
