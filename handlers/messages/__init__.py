"""Every sentence promotebot shows in Slack, as small functions, in one package by surface:

    words       the pieces every sentence is made of: people, revisions, commands, durations
    refusals    a Reason from the core (a refusal, a recorded failure) as a sentence
    access      the access policy's words: whom to ask, what one person may do per env
    answers     ephemeral answers to commands and clicks
    card        the promotion card: header, fields, gates, outcome, buttons, footer
    timeline    an event as a line of the card's timeline, or as a thread reply
    views       status, App Home, help, and the modals

Wording changes here and only here. Everything that came from a person or from outside (names,
reasons, plans, commit subjects, branch and hotfix names, Flux's and GitHub's messages, the
forms of usage lines) is escaped before it is placed, in plain text too (Slack decodes
entities there); only the bot's own mentions ping anyone. Names from the pipeline file (apps,
envs, branches) are inert by its schema. Nothing here may show the text of an unexpected
exception: those get `answers.generic_error(reference)` and a log line instead.
"""
