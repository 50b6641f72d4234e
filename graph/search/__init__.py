"""Full-text, thesaurus-aware search: the index (`index`), the thesaurus in memory (`thesaurus`),
text analysis (`analysis`), querying with facets and autocomplete (`query`) and the search page's
view model (`page`)."""
