// Which ranks host which roles. A [placement] table asks for each role either
// a number of ranks, an explicit list of ranks, or "all"; resolving it against
// the job's size gives every role its ranks, or one line per mistake.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace toml {
inline namespace v3 {
class table;
}
}  // namespace toml

namespace newsrl::runtime {

struct RoleRequest {
  std::optional<int> count;  // a number of ranks, placed by the runtime
  std::vector<int> ranks;    // or an explicit list
  bool all = false;          // or every rank
};

struct PlacementSpec {
  // Roles the application knows, in the order counts are placed. Empty: any name goes.
  std::vector<std::string> known_roles;
  std::map<std::string, RoleRequest> requests;
  int driver = 0;
  bool exclusive = false;              // true: no rank hosts two roles
  std::string source = "[placement]";  // how messages name where the spec came from

  PlacementSpec& add(const std::string& role, int count);
  PlacementSpec& add(const std::string& role, std::vector<int> ranks);
  PlacementSpec& add_all(const std::string& role);

  // Reads a [placement] table (null: empty). Roles in `defaults` that the
  // table leaves out get one rank each. Type mistakes throw ConfigError.
  static PlacementSpec from_toml(const toml::table* table, const std::string& source,
                                 std::vector<std::string> known_roles, const std::vector<std::string>& defaults);
};

struct Placement {
  int world_size = 1;
  int driver = 0;
  bool exclusive = false;
  std::vector<std::string> roles;                 // in placement order
  std::map<std::string, std::vector<int>> ranks;  // role → its ranks, ascending

  // Throws ConfigError whose message has one line per mistake.
  static Placement resolve(const PlacementSpec& spec, int world_size);

  const std::vector<int>& ranks_of(const std::string& role) const;
  bool hosts(int rank, const std::string& role) const;
  std::vector<std::string> roles_on(int rank) const;
  // "rollout, learner" or "driver, rollout" or "idle"
  std::string describe_rank(int rank) const;
  // A printable table: rank, roles.
  std::string table() const;
  // The resolved placement as a TOML [placement] table with explicit lists.
  std::string to_toml() const;
};

}  // namespace newsrl::runtime
