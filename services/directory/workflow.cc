#include "services/directory/workflow.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <set>
#include <unordered_map>

#include "common/status.h"
#include "common/validate.h"

namespace sm::directory {
namespace {

constexpr size_t kMaxReported = 100;

template <typename Enum>
std::string Strip(const std::string& full, std::string_view prefix) {
  return full.rfind(prefix, 0) == 0 ? full.substr(prefix.size()) : full;
}

class Checker {
 public:
  void Add(const std::string& field, const std::string& what) {
    if (errors_.size() < kMaxReported) errors_.Add(field, what);
    ++count_;
  }
  bool ok() const { return count_ == 0; }
  absl::Status ToStatus() const { return errors_.ToStatus(); }

  // Reads a scalar field of `item` into `out`; checks presence, UTF-8, length, characters.
  void Text(const YAML::Node& item, const std::string& path, const char* key, std::string& out, size_t max,
            bool required) {
    const std::string field = path + "." + key;
    YAML::Node n = item[key];
    if (!n || n.IsNull()) {
      if (required) Add(field, "is required");
      return;
    }
    if (!n.IsScalar()) {
      Add(field, "must be text");
      return;
    }
    std::string v = n.Scalar();
    if (!IsValidUtf8(v)) {
      Add(field, "is not valid UTF-8 (save the file as UTF-8)");
      return;
    }
    // Trim surrounding spaces: a trailing space in a spreadsheet export is not a new name.
    size_t b = v.find_first_not_of(" \t");
    size_t e = v.find_last_not_of(" \t");
    v = b == std::string::npos ? "" : v.substr(b, e - b + 1);
    if (v.empty()) {
      if (required) Add(field, "must not be empty");
      out.clear();
      return;
    }
    if (CodePoints(v) > max) {
      Add(field, "is longer than " + std::to_string(max) + " characters");
      return;
    }
    for (unsigned char c : v) {
      if (c < 0x20 || c == 0x7f) {
        Add(field, "contains a control character");
        return;
      }
    }
    out = v;
  }

  void Code(const std::string& field, const std::string& v, bool allow_upper) {
    for (char c : v) {
      bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
                (allow_upper && c >= 'A' && c <= 'Z');
      if (!ok) {
        Add(field, allow_upper ? "may contain only letters, digits, '-', '_' and '.'"
                               : "may contain only a-z, 0-9, '-', '_' and '.'");
        return;
      }
    }
  }

  void Keys(const YAML::Node& item, const std::string& path, std::initializer_list<const char*> known) {
    std::set<std::string> seen;
    for (const auto& kv : item) {
      std::string k = kv.first.IsScalar() ? kv.first.Scalar() : "?";
      if (!seen.insert(k).second) {
        // yaml-cpp keeps the first value of a repeated key; say so rather than drop one.
        Add(path + "." + (IsValidUtf8(k) ? k : "?"), "is given twice");
        continue;
      }
      bool found = false;
      for (const char* kk : known) found = found || k == kk;
      if (!found) Add(path + "." + (IsValidUtf8(k) ? k : "?"), "unknown field");
    }
  }

 private:
  FieldErrors errors_;
  size_t count_ = 0;
};

YAML::Node List(Checker& ck, const YAML::Node& root, const char* key) {
  YAML::Node n = root[key];
  if (!n || n.IsNull()) return YAML::Node(YAML::NodeType::Sequence);
  if (!n.IsSequence()) {
    ck.Add(key, "must be a list");
    return YAML::Node(YAML::NodeType::Sequence);
  }
  if (n.size() > kMaxItems) {
    ck.Add(key, "has more than " + std::to_string(kMaxItems) + " entries");
    return YAML::Node(YAML::NodeType::Sequence);
  }
  return n;
}

}  // namespace

bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

size_t CodePoints(std::string_view s) { return validate::CodePoints(s); }

std::string UnitKindName(v1::UnitKind k) { return Strip<v1::UnitKind>(v1::UnitKind_Name(k), "UNIT_KIND_"); }
std::string PowerName(v1::Power p) { return Strip<v1::Power>(v1::Power_Name(p), "POWER_"); }
std::string CategoryName(v1::PersonCategory c) {
  return Strip<v1::PersonCategory>(v1::PersonCategory_Name(c), "PERSON_CATEGORY_");
}

std::string DutyName(v1::LeaderDuty d) {
  return d == v1::LEADER_DUTY_UNSPECIFIED ? "" : Strip<v1::LeaderDuty>(v1::LeaderDuty_Name(d), "LEADER_DUTY_");
}

v1::UnitKind UnitKindFromName(std::string_view s) {
  v1::UnitKind k;
  if (s.empty() || !v1::UnitKind_Parse("UNIT_KIND_" + std::string(s), &k)) return v1::UNIT_KIND_UNSPECIFIED;
  return k;
}
v1::Power PowerFromName(std::string_view s) {
  v1::Power p;
  if (s.empty() || !v1::Power_Parse("POWER_" + std::string(s), &p)) return v1::POWER_UNSPECIFIED;
  return p;
}
v1::PersonCategory CategoryFromName(std::string_view s) {
  v1::PersonCategory c;
  if (s.empty() || !v1::PersonCategory_Parse("PERSON_CATEGORY_" + std::string(s), &c)) {
    return v1::PERSON_CATEGORY_UNSPECIFIED;
  }
  return c;
}
v1::LeaderDuty DutyFromName(std::string_view s) {
  v1::LeaderDuty d;
  if (s.empty() || !v1::LeaderDuty_Parse("LEADER_DUTY_" + std::string(s), &d)) return v1::LEADER_DUTY_UNSPECIFIED;
  return d;
}

absl::StatusOr<Document> ParseDocument(std::string_view text) {
  if (text.empty()) return InvalidField("document", "is empty");
  if (text.size() > kMaxDocumentBytes) {
    return InvalidField("document", "is larger than " + std::to_string(kMaxDocumentBytes) + " bytes");
  }
  // Invalid UTF-8 is reported on the field that holds it (checked per value below); this
  // line number covers bytes the parser rejects or that sit outside any value.
  std::string bad_utf8;
  if (!IsValidUtf8(text)) {
    size_t line = 1;
    for (size_t i = 0; i < text.size(); ++i) {
      size_t eol = text.find('\n', i);
      if (eol == std::string_view::npos) eol = text.size();
      if (!IsValidUtf8(text.substr(i, eol - i))) break;
      ++line;
      i = eol;
    }
    bad_utf8 = "is not valid UTF-8 at line " + std::to_string(line) + " (save the file as UTF-8)";
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    if (!bad_utf8.empty()) return InvalidField("document", bad_utf8);
    return InvalidField("document",
                        "cannot be parsed as YAML or JSON: " + e.msg + " at line " + std::to_string(e.mark.line + 1));
  }
  if (!root.IsMap()) return InvalidField("document", "must be a map with units, posts and people");

  Checker ck;
  ck.Keys(root, "document", {"units", "posts", "people"});
  Document doc;
  YAML::Node units = List(ck, root, "units");
  YAML::Node posts = List(ck, root, "posts");
  YAML::Node people = List(ck, root, "people");

  std::unordered_map<std::string, size_t> unit_index, post_index, badge_index;
  for (size_t i = 0; i < units.size(); ++i) {
    const std::string path = "units[" + std::to_string(i) + "]";
    const YAML::Node& u = units[i];
    if (!u.IsMap()) {
      ck.Add(path, "must be a map");
      continue;
    }
    ck.Keys(u, path, {"code", "name", "name_en", "kind", "parent"});
    UnitSpec s;
    s.sort_order = static_cast<int>(i);
    std::string kind;
    ck.Text(u, path, "code", s.code, kMaxCode, true);
    ck.Text(u, path, "name", s.name, kMaxName, true);
    ck.Text(u, path, "name_en", s.name_en, kMaxNameEn, false);
    ck.Text(u, path, "kind", kind, 64, true);
    ck.Text(u, path, "parent", s.parent, kMaxCode, false);
    ck.Code(path + ".code", s.code, false);
    if (!kind.empty()) {
      s.kind = UnitKindFromName(kind);
      if (s.kind == v1::UNIT_KIND_UNSPECIFIED) ck.Add(path + ".kind", "unknown unit kind '" + kind + "'");
    }
    if (!s.code.empty()) {
      auto [it, fresh] = unit_index.emplace(s.code, i);
      if (!fresh) ck.Add(path + ".code", "duplicates units[" + std::to_string(it->second) + "].code");
    }
    doc.units.push_back(std::move(s));
  }
  // Parents: each must exist; the tree must have no cycle. Each unit is walked once
  // (0 = unseen, 1 = on the current walk, 2 = known to reach a root), so a deep chain costs
  // no more than a flat tree.
  std::vector<int> mark(doc.units.size(), 0);
  for (size_t i = 0; i < doc.units.size(); ++i) {
    const auto& s = doc.units[i];
    const std::string field = "units[" + std::to_string(i) + "].parent";
    if (s.parent.empty()) continue;
    if (s.parent == s.code) {
      ck.Add(field, "a unit cannot be its own parent");
      mark[i] = 2;
      continue;
    }
    if (!unit_index.count(s.parent)) ck.Add(field, "unknown unit '" + s.parent + "'");
  }
  for (size_t i = 0; i < doc.units.size(); ++i) {
    if (mark[i] != 0) continue;
    std::vector<size_t> walk;
    size_t cur = i;
    while (true) {
      if (mark[cur] == 2) break;
      if (mark[cur] == 1) {
        // A cycle: report it on every unit of the loop, each naming the loop from itself.
        std::vector<size_t> members;
        size_t k = cur;
        do {
          members.push_back(k);
          k = unit_index.at(doc.units[k].parent);
        } while (k != cur);
        std::sort(members.begin(), members.end());
        for (size_t m : members) {
          std::string loop = doc.units[m].code;
          size_t j = m;
          do {
            j = unit_index.at(doc.units[j].parent);
            loop += " -> " + doc.units[j].code;
          } while (j != m);
          ck.Add("units[" + std::to_string(m) + "].parent", "forms a cycle: " + loop);
        }
        break;
      }
      mark[cur] = 1;
      walk.push_back(cur);
      const std::string& parent = doc.units[cur].parent;
      auto it = parent.empty() || parent == doc.units[cur].code ? unit_index.end() : unit_index.find(parent);
      if (it == unit_index.end()) break;
      cur = it->second;
    }
    for (size_t w : walk) mark[w] = 2;
  }

  for (size_t i = 0; i < posts.size(); ++i) {
    const std::string path = "posts[" + std::to_string(i) + "]";
    const YAML::Node& p = posts[i];
    if (!p.IsMap()) {
      ck.Add(path, "must be a map");
      continue;
    }
    ck.Keys(p, path, {"code", "name", "name_en", "powers", "duty"});
    PostSpec s;
    s.sort_order = static_cast<int>(i);
    std::string duty;
    ck.Text(p, path, "code", s.code, kMaxCode, true);
    ck.Text(p, path, "name", s.name, kMaxName, true);
    ck.Text(p, path, "name_en", s.name_en, kMaxNameEn, false);
    ck.Text(p, path, "duty", duty, 64, false);
    ck.Code(path + ".code", s.code, false);
    if (!duty.empty()) {
      s.duty = DutyFromName(duty);
      if (s.duty == v1::LEADER_DUTY_UNSPECIFIED) {
        ck.Add(path + ".duty", "unknown leader duty '" + duty + "' (PRINCIPAL or SUPERVISING)");
      }
    }
    YAML::Node powers = p["powers"];
    if (powers && !powers.IsNull()) {
      if (!powers.IsSequence()) {
        ck.Add(path + ".powers", "must be a list");
      } else {
        std::set<v1::Power> set;
        for (size_t k = 0; k < powers.size(); ++k) {
          const std::string pf = path + ".powers[" + std::to_string(k) + "]";
          std::string name = powers[k].IsScalar() ? powers[k].Scalar() : "";
          v1::Power pw = PowerFromName(name);
          if (pw == v1::POWER_UNSPECIFIED) {
            ck.Add(pf, IsValidUtf8(name) ? "unknown power '" + name + "'" : "is not valid UTF-8");
          } else if (!set.insert(pw).second) {
            ck.Add(pf, "repeats " + name);
          }
        }
        s.powers.assign(set.begin(), set.end());
      }
    }
    if (!s.code.empty()) {
      auto [it, fresh] = post_index.emplace(s.code, i);
      if (!fresh) ck.Add(path + ".code", "duplicates posts[" + std::to_string(it->second) + "].code");
    }
    doc.posts.push_back(std::move(s));
  }

  for (size_t i = 0; i < people.size(); ++i) {
    const std::string path = "people[" + std::to_string(i) + "]";
    const YAML::Node& p = people[i];
    if (!p.IsMap()) {
      ck.Add(path, "must be a map");
      continue;
    }
    ck.Keys(p, path, {"badge", "name", "unit", "post", "grade", "leader", "category"});
    PersonSpec s;
    std::string category, leader;
    ck.Text(p, path, "badge", s.badge, kMaxBadge, true);
    ck.Text(p, path, "name", s.name, kMaxName, true);
    ck.Text(p, path, "unit", s.unit, kMaxCode, true);
    ck.Text(p, path, "post", s.post, kMaxCode, false);
    ck.Text(p, path, "grade", s.grade, kMaxGrade, false);
    ck.Text(p, path, "leader", leader, 8, false);
    ck.Text(p, path, "category", category, 32, true);
    ck.Code(path + ".badge", s.badge, true);
    if (leader == "true" || leader == "yes") {
      s.leader = true;
    } else if (!leader.empty() && leader != "false" && leader != "no") {
      ck.Add(path + ".leader", "must be true or false");
    }
    if (!category.empty()) {
      s.category = CategoryFromName(category);
      if (s.category == v1::PERSON_CATEGORY_UNSPECIFIED) {
        ck.Add(path + ".category", "must be POLICE, AUXILIARY or CIVILIAN");
      }
    }
    if (!s.unit.empty() && !unit_index.count(s.unit)) ck.Add(path + ".unit", "unknown unit '" + s.unit + "'");
    if (!s.post.empty() && !post_index.count(s.post)) ck.Add(path + ".post", "unknown post '" + s.post + "'");
    if (!s.badge.empty()) {
      auto [it, fresh] = badge_index.emplace(s.badge, i);
      if (!fresh) ck.Add(path + ".badge", "duplicates people[" + std::to_string(it->second) + "].badge");
    }
    doc.people.push_back(std::move(s));
  }
  if (ck.ok() && !bad_utf8.empty()) ck.Add("document", bad_utf8);
  if (!ck.ok()) return ck.ToStatus();
  return doc;
}

bool Plan::changed() const {
  return !unit_writes.empty() || !post_writes.empty() || !person_writes.empty() || !unit_deactivations.empty() ||
         !post_deactivations.empty() || !person_deactivations.empty();
}

namespace {

void Record(Plan& plan, v1::ImportCounts& counts, const char* kind, const std::string& key,
            v1::ImportChange::Action action, std::vector<std::string> fields = {}) {
  switch (action) {
    case v1::ImportChange::ACTION_CREATED: counts.set_created(counts.created() + 1); break;
    case v1::ImportChange::ACTION_UPDATED: counts.set_updated(counts.updated() + 1); break;
    case v1::ImportChange::ACTION_DEACTIVATED: counts.set_deactivated(counts.deactivated() + 1); break;
    default: break;
  }
  v1::ImportChange c;
  c.set_kind(kind);
  c.set_key(key);
  c.set_action(action);
  for (auto& f : fields) c.add_fields(std::move(f));
  plan.changes.push_back(std::move(c));
}

}  // namespace

Plan PlanImport(const Snapshot& current, const Document& doc, const std::function<std::string()>& new_id) {
  Plan plan;
  std::unordered_map<std::string, const StoredUnit*> units_by_code;
  for (const auto& u : current.units) units_by_code[u.code] = &u;
  std::unordered_map<std::string, const StoredPost*> posts_by_code;
  for (const auto& p : current.posts) posts_by_code[p.code] = &p;
  std::unordered_map<std::string, const StoredPerson*> people_by_badge;
  for (const auto& p : current.people) people_by_badge[p.badge] = &p;

  // Ids first, so parents and references resolve whatever the document order.
  std::unordered_map<std::string, std::string> unit_id, post_id;
  for (const auto& s : doc.units) {
    auto it = units_by_code.find(s.code);
    unit_id[s.code] = it != units_by_code.end() ? it->second->id : new_id();
  }
  for (const auto& s : doc.posts) {
    auto it = posts_by_code.find(s.code);
    post_id[s.code] = it != posts_by_code.end() ? it->second->id : new_id();
  }

  for (const auto& s : doc.units) {
    StoredUnit row{unit_id[s.code],      s.code,       s.name, s.name_en, s.parent.empty() ? "" : unit_id[s.parent],
                   UnitKindName(s.kind), s.sort_order, true};
    auto it = units_by_code.find(s.code);
    if (it == units_by_code.end()) {
      plan.unit_writes.push_back(row);
      plan.new_ids.push_back(row.id);
      Record(plan, plan.units, "unit", s.code, v1::ImportChange::ACTION_CREATED);
      continue;
    }
    const StoredUnit& old = *it->second;
    std::vector<std::string> fields;
    if (old.name != row.name) fields.push_back("name");
    if (old.name_en != row.name_en) fields.push_back("name_en");
    if (old.kind != row.kind) fields.push_back("kind");
    if (old.parent_id != row.parent_id) fields.push_back("parent");
    if (old.sort_order != row.sort_order) fields.push_back("order");
    if (!old.active) fields.push_back("active");
    if (fields.empty()) {
      plan.units.set_unchanged(plan.units.unchanged() + 1);
    } else {
      plan.unit_writes.push_back(row);
      Record(plan, plan.units, "unit", s.code, v1::ImportChange::ACTION_UPDATED, fields);
    }
  }
  std::set<std::string> doc_codes;
  for (const auto& s : doc.units) doc_codes.insert(s.code);
  for (const auto& u : current.units) {
    if (u.active && !doc_codes.count(u.code)) {
      plan.unit_deactivations.push_back(u.id);
      Record(plan, plan.units, "unit", u.code, v1::ImportChange::ACTION_DEACTIVATED);
    }
  }

  for (const auto& s : doc.posts) {
    std::vector<std::string> powers;
    for (auto p : s.powers) powers.push_back(PowerName(p));
    StoredPost row{post_id[s.code], s.code, s.name, s.name_en, powers, s.sort_order, true, DutyName(s.duty)};
    auto it = posts_by_code.find(s.code);
    if (it == posts_by_code.end()) {
      plan.post_writes.push_back(row);
      plan.new_ids.push_back(row.id);
      Record(plan, plan.posts, "post", s.code, v1::ImportChange::ACTION_CREATED);
      continue;
    }
    const StoredPost& old = *it->second;
    std::vector<std::string> fields;
    if (old.name != row.name) fields.push_back("name");
    if (old.name_en != row.name_en) fields.push_back("name_en");
    if (old.powers != row.powers) fields.push_back("powers");
    if (old.duty != row.duty) fields.push_back("duty");
    if (old.sort_order != row.sort_order) fields.push_back("order");
    if (!old.active) fields.push_back("active");
    if (fields.empty()) {
      plan.posts.set_unchanged(plan.posts.unchanged() + 1);
    } else {
      plan.post_writes.push_back(row);
      Record(plan, plan.posts, "post", s.code, v1::ImportChange::ACTION_UPDATED, fields);
    }
  }
  std::set<std::string> doc_posts;
  for (const auto& s : doc.posts) doc_posts.insert(s.code);
  for (const auto& p : current.posts) {
    if (p.active && !doc_posts.count(p.code)) {
      plan.post_deactivations.push_back(p.id);
      Record(plan, plan.posts, "post", p.code, v1::ImportChange::ACTION_DEACTIVATED);
    }
  }

  std::set<std::string> doc_badges;
  for (const auto& s : doc.people) {
    doc_badges.insert(s.badge);
    auto it = people_by_badge.find(s.badge);
    StoredPerson row{it != people_by_badge.end() ? it->second->id : new_id(),
                     s.badge,
                     s.name,
                     unit_id[s.unit],
                     s.post.empty() ? "" : post_id[s.post],
                     s.grade,
                     CategoryName(s.category),
                     s.leader,
                     true};
    if (it == people_by_badge.end()) {
      plan.person_writes.push_back(row);
      plan.new_ids.push_back(row.id);
      Record(plan, plan.people, "person", s.badge, v1::ImportChange::ACTION_CREATED);
      continue;
    }
    const StoredPerson& old = *it->second;
    std::vector<std::string> fields;
    if (old.name != row.name) fields.push_back("name");
    if (old.unit_id != row.unit_id) fields.push_back("unit");
    if (old.post_id != row.post_id) fields.push_back("post");
    if (old.grade != row.grade) fields.push_back("grade");
    if (old.leader != row.leader) fields.push_back("leader");
    if (old.category != row.category) fields.push_back("category");
    if (!old.active) fields.push_back("active");
    if (fields.empty()) {
      plan.people.set_unchanged(plan.people.unchanged() + 1);
    } else {
      plan.person_writes.push_back(row);
      Record(plan, plan.people, "person", s.badge, v1::ImportChange::ACTION_UPDATED, fields);
    }
  }
  for (const auto& p : current.people) {
    if (p.active && !doc_badges.count(p.badge)) {
      plan.person_deactivations.push_back(p.id);
      Record(plan, plan.people, "person", p.badge, v1::ImportChange::ACTION_DEACTIVATED);
    }
  }
  return plan;
}

}  // namespace sm::directory
