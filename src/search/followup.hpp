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

}  // namespace chrysopedia::search
