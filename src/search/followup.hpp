#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chrysopedia::search {

/// What to search for a question asked in a conversation: a follow-up
/// ("and a softer one for the breakdown?", "how many voices?") is searched
/// together with the question before it, so it finds what the
/// conversation is about; a question that says it changes the subject
/// ("different question: ...", "btw ...", "unrelated, but ...") is
/// searched alone. Without context, the question itself.
std::string contextual_query(std::string_view question, const std::vector<std::string>& context);

/// True when the question opens by saying it changes the subject.
bool changes_subject(std::string_view question);

/// True when the question leans on what was said before: it opens with
/// "and" or "what/how about", or points back with a word such as "it",
/// "that", "them", "one", "too", "same" or "instead" ("should it go
/// before the eq?", "and for vocals?"). A follow-up without such a word
/// may still be one ("should I add a clap on top?"); one with it is taken
/// to be.
bool refers_back(std::string_view question);

}  // namespace chrysopedia::search
