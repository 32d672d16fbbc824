#include "runtime/placement.h"

#include <toml++/toml.h>

#include <algorithm>
#include <set>
#include <sstream>

#include "runtime/errors.h"

namespace newsrl::runtime {

PlacementSpec& PlacementSpec::add(const std::string& role, int count) {
  requests[role] = RoleRequest{count, {}, false};
  return *this;
}
PlacementSpec& PlacementSpec::add(const std::string& role, std::vector<int> ranks) {
  requests[role] = RoleRequest{std::nullopt, std::move(ranks), false};
  return *this;
}
PlacementSpec& PlacementSpec::add_all(const std::string& role) {
  requests[role] = RoleRequest{std::nullopt, {}, true};
  return *this;
}

PlacementSpec PlacementSpec::from_toml(const toml::table* table, const std::string& source,
                                       std::vector<std::string> known_roles, const std::vector<std::string>& defaults) {
  PlacementSpec spec;
  spec.source = source;
  spec.known_roles = std::move(known_roles);
  std::vector<std::pair<std::uint32_t, std::string>> errors;  // (line, message), reported in file order
  auto where = [&](const std::string& key, const toml::node& n) {
    std::string s = source + "." + key;
    if (n.source().begin.line > 0) s = source + " line " + std::to_string(n.source().begin.line) + ": " + key;
    return s;
  };
  if (table != nullptr) {
    for (const auto& [k, node] : *table) {
      const std::string key(k.str());
      if (key == "driver") {
        if (auto v = node.value<int64_t>())
          spec.driver = static_cast<int>(*v);
        else
          errors.emplace_back(node.source().begin.line, where(key, node) + " must be a rank number");
      } else if (key == "exclusive") {
        if (auto v = node.value<bool>())
          spec.exclusive = *v;
        else
          errors.emplace_back(node.source().begin.line, where(key, node) + " must be true or false");
      } else if (auto count = node.value_exact<int64_t>()) {
        spec.requests[key] = RoleRequest{static_cast<int>(*count), {}, false};
      } else if (auto str = node.value_exact<std::string>(); str && *str == "all") {
        spec.requests[key] = RoleRequest{std::nullopt, {}, true};
      } else if (const toml::array* arr = node.as_array()) {
        RoleRequest r;
        bool ok = true;
        for (const auto& e : *arr) {
          if (auto v = e.value_exact<int64_t>())
            r.ranks.push_back(static_cast<int>(*v));
          else
            ok = false;
        }
        if (ok)
          spec.requests[key] = std::move(r);
        else
          errors.emplace_back(node.source().begin.line, where(key, node) + " must list rank numbers, like [0, 1]");
      } else {
        errors.emplace_back(node.source().begin.line,
                            where(key, node) + " must be a rank count (2), a list of ranks ([0, 1]) or \"all\"");
      }
    }
  }
  for (const std::string& role : defaults) {
    if (!spec.requests.contains(role)) spec.requests[role] = RoleRequest{1, {}, false};
  }
  if (!errors.empty()) {
    std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e.second;
    throw ConfigError(msg);
  }
  return spec;
}

namespace {
std::string ranks_word(long n) { return std::to_string(n) + (n == 1 ? " rank" : " ranks"); }
}  // namespace

Placement Placement::resolve(const PlacementSpec& spec, int world_size) {
  std::vector<std::string> errors;
  auto fail = [&](const std::string& what) { errors.push_back(spec.source + " " + what); };
  const std::string job = "the job has " + ranks_word(world_size) + " (mpirun -np " + std::to_string(world_size) + ")";

  Placement p;
  p.world_size = world_size;
  p.driver = spec.driver;
  p.exclusive = spec.exclusive;
  if (spec.driver < 0 || spec.driver >= world_size) {
    fail("driver = " + std::to_string(spec.driver) + " is not a rank: " + job);
  }

  // Placement order: the application's roles first, in its order, then any others by name.
  std::vector<std::string> order;
  for (const auto& r : spec.known_roles) {
    if (spec.requests.contains(r)) order.push_back(r);
  }
  for (const auto& [role, req] : spec.requests) {
    if (std::find(order.begin(), order.end(), role) != order.end()) continue;
    if (!spec.known_roles.empty()) {
      std::string known;
      for (const auto& k : spec.known_roles) known += (known.empty() ? "" : ", ") + k;
      fail("unknown role \"" + role + "\" (known roles: " + known + ")");
      continue;
    }
    order.push_back(role);
  }

  std::vector<int> load(static_cast<std::size_t>(std::max(world_size, 0)), 0);
  std::map<int, std::string> owner;  // for exclusive: which role took a rank
  auto take = [&](const std::string& role, int r) {
    if (spec.exclusive && owner.contains(r)) {
      fail("rank " + std::to_string(r) + " is given to both " + owner[r] + " and " + role + ", but exclusive = true");
    }
    owner.emplace(r, role);
    ++load[static_cast<std::size_t>(r)];
    p.ranks[role].push_back(r);
  };

  // Explicit lists and "all" first, so that counts fill around them.
  for (const auto& role : order) {
    const RoleRequest& req = spec.requests.at(role);
    if (req.all) {
      for (int r = 0; r < world_size; ++r) take(role, r);
    } else if (!req.count) {
      if (req.ranks.empty()) fail(role + " has no rank: its list is empty");
      std::set<int> seen;
      for (int r : req.ranks) {
        if (r < 0 || r >= world_size) {
          fail(role + " lists rank " + std::to_string(r) + ", but " + job);
        } else if (!seen.insert(r).second) {
          fail(role + " lists rank " + std::to_string(r) + " twice");
        } else {
          take(role, r);
        }
      }
    }
  }
  for (const auto& role : order) {
    const RoleRequest& req = spec.requests.at(role);
    if (!req.count) continue;
    const int n = *req.count;
    if (n <= 0) {
      fail(role + " has no rank: it asks for " + std::to_string(n));
      continue;
    }
    if (n > world_size) {
      fail(role + " asks for " + ranks_word(n) + ", but " + job);
      continue;
    }
    std::vector<int> candidates;
    for (int r = 0; r < world_size; ++r) {
      if (!spec.exclusive || !owner.contains(r)) candidates.push_back(r);
    }
    if (static_cast<int>(candidates.size()) < n) {
      fail(role + " asks for " + ranks_word(n) + ", but exclusive = true leaves " + std::to_string(candidates.size()) +
           " free of " + std::to_string(world_size));
      continue;
    }
    // Least-loaded ranks first, lowest rank on ties: spreads roles out when
    // there are ranks enough, and shares ranks evenly when there are not.
    std::stable_sort(candidates.begin(), candidates.end(), [&](int a, int b) {
      return load[static_cast<std::size_t>(a)] < load[static_cast<std::size_t>(b)];
    });
    for (int i = 0; i < n; ++i) take(role, candidates[static_cast<std::size_t>(i)]);
  }

  if (!errors.empty()) {
    std::string msg;
    for (const auto& e : errors) msg += (msg.empty() ? "" : "\n") + e;
    throw ConfigError(msg);
  }
  for (auto& [role, ranks] : p.ranks) std::sort(ranks.begin(), ranks.end());
  p.roles = order;
  return p;
}

const std::vector<int>& Placement::ranks_of(const std::string& role) const {
  auto it = ranks.find(role);
  if (it == ranks.end()) throw ConfigError("no role \"" + role + "\" in the placement");
  return it->second;
}

bool Placement::hosts(int rank, const std::string& role) const {
  auto it = ranks.find(role);
  return it != ranks.end() && std::binary_search(it->second.begin(), it->second.end(), rank);
}

std::vector<std::string> Placement::roles_on(int rank) const {
  std::vector<std::string> out;
  for (const auto& role : roles) {
    if (hosts(rank, role)) out.push_back(role);
  }
  return out;
}

std::string Placement::describe_rank(int rank) const {
  std::string s = rank == driver ? "driver" : "";
  for (const auto& role : roles_on(rank)) s += (s.empty() ? "" : ", ") + role;
  return s.empty() ? "idle" : s;
}

std::string Placement::table() const {
  std::ostringstream os;
  os << "rank  roles\n";
  for (int r = 0; r < world_size; ++r) {
    std::string n = std::to_string(r);
    os << n << std::string(n.size() < 6 ? 6 - n.size() : 1, ' ') << describe_rank(r) << "\n";
  }
  return os.str();
}

std::string Placement::to_toml() const {
  std::ostringstream os;
  os << "[placement]\n";
  os << "driver = " << driver << "\n";
  os << "exclusive = " << (exclusive ? "true" : "false") << "\n";
  for (const auto& role : roles) {
    os << role << " = [";
    const auto& rs = ranks.at(role);
    for (std::size_t i = 0; i < rs.size(); ++i) os << (i ? ", " : "") << rs[i];
    os << "]\n";
  }
  return os.str();
}

}  // namespace newsrl::runtime
