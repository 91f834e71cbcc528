#include "inkgen/options/objective_spec.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "inkgen/common/checked_input.hpp"
#include "inkgen/common/error.hpp"

namespace inkgen {

namespace {

// More terms than anyone combines by hand; the cap keeps a hostile JOBS line small.
constexpr std::size_t max_terms = 64;

const char* const grammar =
    "write logit, bce, channel:LAYER:K, neuron:LAYER:K[:t,y,x] or direction:LAYER:FILE, "
    "weighted as 0.5*TERM and joined by + and - with spaces around them, e.g. "
    "\"channel:down2:3 - 0.5*logit\"";

[[noreturn]] void bad(const std::string& what) {
  throw Error(ErrorKind::usage, "--objective " + what + "; " + grammar);
}

std::string shown(const std::string& text) {
  return "'" + excerpt(text, 60) + "'";
}

std::vector<std::string> split(const std::string& text, char sep) {
  std::vector<std::string> parts(1);
  for (const char c : text) {
    if (c == sep)
      parts.emplace_back();
    else
      parts.back() += c;
  }
  return parts;
}

std::int64_t whole(const std::string& text, const std::string& term, const char* what) {
  const auto v = parse_whole(text);
  if (!v || *v < 0 || *v > (1LL << 40))
    bad("term " + shown(term) + " has " + what + " " + shown(text) + ", not a whole number >= 0");
  return *v;
}

ObjectiveTerm parse_term(const std::string& token) {
  const auto parts = split(token, ':');
  const std::string& kind = parts[0];
  ObjectiveTerm t;
  if (kind == "logit" || kind == "ink" || kind == "bce") {
    if (parts.size() != 1) bad("term " + shown(token) + ": " + kind + " takes no layer");
    t.kind = kind == "bce" ? TermKind::bce : TermKind::logit;
    return t;
  }
  const bool known = kind == "channel" || kind == "neuron" || kind == "direction";
  if (!known) bad("term " + shown(token) + " is unknown");
  if (parts.size() < 3 || parts[1].empty())
    bad("term " + shown(token) + " names no layer and " +
        (kind == "direction" ? "file" : "channel"));
  t.layer = parts[1];
  if (kind == "direction") {
    t.kind = TermKind::direction;
    for (std::size_t i = 2; i < parts.size(); ++i)
      t.file += (i > 2 ? ":" : "") + parts[i];
    if (t.file.empty()) bad("term " + shown(token) + " names no file");
    return t;
  }
  t.kind = kind == "channel" ? TermKind::channel : TermKind::neuron;
  if (parts.size() > (t.kind == TermKind::neuron ? 4u : 3u))
    bad("term " + shown(token) + " has too many parts");
  t.channel = whole(parts[2], token, "channel");
  if (parts.size() == 4) {
    for (const auto& c : split(parts[3], ','))
      t.position.push_back(whole(c, token, "coordinate"));
  }
  return t;
}

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.15g", v);
  return buf;
}

}  // namespace

std::string ObjectiveTerm::text() const {
  switch (kind) {
    case TermKind::logit:
      return "logit";
    case TermKind::bce:
      return "bce";
    case TermKind::channel:
      return "channel:" + layer + ":" + std::to_string(channel);
    case TermKind::neuron: {
      std::string out = "neuron:" + layer + ":" + std::to_string(channel);
      for (std::size_t i = 0; i < position.size(); ++i)
        out += (i ? "," : ":") + std::to_string(position[i]);
      return out;
    }
    case TermKind::direction:
      return "direction:" + layer + ":" + file;
  }
  return "logit";
}

std::optional<Objective> ObjectiveSpec::plain_ink() const {
  if (terms.size() != 1 || terms[0].weight != 1.0) return std::nullopt;
  if (terms[0].kind == TermKind::logit) return Objective::logit;
  if (terms[0].kind == TermKind::bce) return Objective::bce;
  return std::nullopt;
}

bool ObjectiveSpec::reads_layers() const {
  for (const auto& t : terms)
    if (t.reads_layer()) return true;
  return false;
}

std::string ObjectiveSpec::text() const {
  std::string out;
  for (const auto& t : terms) {
    const double w = std::abs(t.weight);
    if (out.empty())
      out += t.weight < 0 ? "-" : "";
    else
      out += t.weight < 0 ? " - " : " + ";
    if (w != 1.0) out += number_text(w) + "*";
    out += t.text();
  }
  return out;
}

ObjectiveSpec ink_objective(Objective form) {
  ObjectiveSpec s;
  s.terms[0].kind = form == Objective::bce ? TermKind::bce : TermKind::logit;
  return s;
}

ObjectiveSpec with_channel(ObjectiveSpec spec, std::int64_t channel) {
  for (auto& t : spec.terms)
    if (t.kind == TermKind::channel) t.channel = channel;
  return spec;
}

ObjectiveSpec parse_objective_spec(const std::string& text) {
  if (text.size() > 4096) bad("is " + std::to_string(text.size()) + " characters long");
  ObjectiveSpec spec;
  spec.terms.clear();
  std::size_t i = 0;
  const auto skip = [&] {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
  };
  skip();
  double sign = 1.0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) {
    sign = text[i] == '-' ? -1.0 : 1.0;
    ++i;
    skip();
  }
  while (true) {
    if (i >= text.size()) bad(spec.terms.empty() ? "is empty" : "ends with an operator");
    double weight = 1.0;
    if (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.') {
      const char* begin = text.c_str() + i;
      char* end = nullptr;
      weight = std::strtod(begin, &end);
      std::size_t j = i + static_cast<std::size_t>(end - begin);
      while (j < text.size() && std::isspace(static_cast<unsigned char>(text[j])))
        ++j;
      if (end == begin || j >= text.size() || text[j] != '*')
        bad("weight at " + shown(text.substr(i)) + " is not followed by *TERM");
      if (!std::isfinite(weight))
        bad("weight " + shown(std::string(begin, static_cast<const char*>(end))) +
            " is not a finite number");
      i = j + 1;
      skip();
    }
    const std::size_t start = i;
    while (i < text.size() && !std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    ObjectiveTerm term = parse_term(text.substr(start, i - start));
    term.weight = sign * weight;
    spec.terms.push_back(term);
    if (spec.terms.size() > max_terms) bad("has more than " + std::to_string(max_terms) + " terms");
    skip();
    if (i >= text.size()) break;
    if (text[i] != '+' && text[i] != '-')
      bad("has " + shown(text.substr(i)) + " where + or - should join two terms");
    sign = text[i] == '-' ? -1.0 : 1.0;
    ++i;
    skip();
  }
  return spec;
}

std::string objective_text_of(const nlohmann::json& value) {
  if (value.is_string()) return parse_objective_spec(value.get<std::string>()).text();
  if (!value.is_array() || value.empty() || value.size() > max_terms) {
    throw Error(ErrorKind::usage,
                "objective must be a text like \"channel:down2:3 - 0.5*logit\" or a list of "
                "{\"term\": TEXT, \"weight\": NUMBER}, got " +
                    excerpt(value));
  }
  ObjectiveSpec spec;
  spec.terms.clear();
  for (const auto& item : value) {
    bool ok = item.is_object() && item.contains("term") && item["term"].is_string() &&
              (!item.contains("weight") || item["weight"].is_number());
    if (ok) {
      for (auto it = item.begin(); it != item.end(); ++it)
        ok = ok && (it.key() == "term" || it.key() == "weight");
    }
    if (!ok) {
      throw Error(ErrorKind::usage, "objective list item " + excerpt(item) +
                                        " is not {\"term\": TEXT, \"weight\": NUMBER}");
    }
    const auto one = parse_objective_spec(item["term"].get<std::string>());
    if (one.terms.size() != 1) {
      throw Error(ErrorKind::usage, "objective list item " + excerpt(item) +
                                        " holds several terms; give one term per item");
    }
    ObjectiveTerm t = one.terms[0];
    t.weight *= item.value("weight", 1.0);
    if (!std::isfinite(t.weight))
      throw Error(ErrorKind::usage, "objective weight in " + excerpt(item) + " is not finite");
    spec.terms.push_back(t);
  }
  return spec.text();
}

}  // namespace inkgen
