// The output grammar: valid lists, each violation with its one-line error, and
// render -> parse round trips (news/grammar.h).
#include "news/grammar.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace newsrl::news {
namespace {

using Queries = std::vector<std::string>;

ParsedList parse(std::string_view text, ListLimits limits = {}) { return parse_completion(text, limits); }

TEST(Grammar, ValidListWithoutReasoning) {
  ParsedList p = parse("1. cheap flights lisbon\n2. premier league scores\n<|im_end|>");
  EXPECT_TRUE(p.valid) << p.error;
  EXPECT_EQ(p.error, "");
  EXPECT_EQ(p.queries, (Queries{"cheap flights lisbon", "premier league scores"}));
  EXPECT_EQ(p.reasoning, "");
}

TEST(Grammar, ValidListWithReasoningAndTrailingWhitespace) {
  ParsedList p = parse(
      "Reasoning: travels a lot and follows football.\n1. lisbon travel\n2.  arsenal   transfers \n"
      "<|im_end|>\n  \n");
  EXPECT_TRUE(p.valid) << p.error;
  EXPECT_EQ(p.reasoning, "travels a lot and follows football.");
  EXPECT_EQ(p.queries, (Queries{"lisbon travel", "arsenal transfers"}));
}

TEST(Grammar, ClosingTokenMayFollowTheLastQueryOnItsLine) {
  ParsedList p = parse("1. solar panels<|im_end|>");
  EXPECT_TRUE(p.valid) << p.error;
  EXPECT_EQ(p.queries, Queries{"solar panels"});
}

TEST(Grammar, WrongNumbering) {
  ParsedList p = parse("1. a b\n3. c d\n<|im_end|>");
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(p.error, "line 2: expected number 2, found 3");
  EXPECT_EQ(p.queries, (Queries{"a b", "c d"}));  // still read
  EXPECT_EQ(parse("0. a\n<|im_end|>").error, "line 1: expected number 1, found 0");
}

TEST(Grammar, LineThatIsNotAQuery) {
  EXPECT_EQ(parse("1. a\n- b\n<|im_end|>").error, "line 2: expected '2. query', found '- b'");
  EXPECT_EQ(parse("1.a\n<|im_end|>").error, "line 1: expected '1. query', found '1.a'");
  EXPECT_EQ(parse("1. a\n\n2. b\n<|im_end|>").error, "line 2: blank line");
}

TEST(Grammar, TooManyQueries) {
  ListLimits limits;
  limits.max_queries = 2;
  ParsedList p = parse("1. a\n2. b\n3. c\n<|im_end|>", limits);
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(p.error, "line 3: more than 2 queries");
  EXPECT_EQ(p.queries.size(), 3u);
}

TEST(Grammar, TooFewQueries) {
  ListLimits limits;
  limits.min_queries = 3;
  EXPECT_EQ(parse("1. a\n2. b\n<|im_end|>", limits).error, "too few queries: 2 (at least 3)");
  EXPECT_EQ(parse("<|im_end|>").error, "too few queries: 0 (at least 1)");
  EXPECT_EQ(parse("").error, "missing closing token <|im_end|>");
}

TEST(Grammar, TooManyWords) {
  ParsedList p = parse("1. one two three four five six seven\n<|im_end|>");
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(p.error, "line 1: query has 7 words (at most 6)");
  ListLimits limits;
  limits.max_query_words = 7;
  EXPECT_TRUE(parse("1. one two three four five six seven\n<|im_end|>", limits).valid);
}

TEST(Grammar, DuplicatesIgnoreCaseAndWhitespace) {
  ParsedList p = parse("1. Cheap Flights\n2.   cheap  flights \n3. hotels\n<|im_end|>");
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(p.error, "line 2: query 'cheap flights' repeats query 1");
  EXPECT_EQ(p.queries, (Queries{"Cheap Flights", "hotels"}));  // the repeat is left out
}

TEST(Grammar, MissingClosingToken) {
  ParsedList p = parse("1. a\n2. b\n");
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(p.error, "missing closing token <|im_end|>");
  EXPECT_EQ(p.queries, (Queries{"a", "b"}));
}

TEST(Grammar, TextAfterClosingToken) {
  ParsedList p = parse("1. a\n<|im_end|>\n2. b");
  EXPECT_EQ(p.error, "text after <|im_end|>: '2. b'");
  EXPECT_EQ(p.queries, Queries{"a"});
}

TEST(Grammar, EmptyQuery) {
  EXPECT_EQ(parse("1. a\n2. \n<|im_end|>").error, "line 2: empty query");
  EXPECT_EQ(parse("1.\n<|im_end|>").error, "line 1: empty query");
}

TEST(Grammar, ControlCharacterInQuery) {
  EXPECT_EQ(parse("1. a\tb\x01\n<|im_end|>").error, "line 1: query holds a control character");
  EXPECT_EQ(parse("1. caf\xc3\n<|im_end|>").error, "the completion is not valid UTF-8");
}

TEST(Grammar, SalvageKeepsReadableQueries) {
  ListLimits limits;
  limits.max_queries = 2;
  // A repeat, a control character, broken UTF-8, then one query too many.
  ParsedList p = parse("1. a b\n2. a b\n3. c\x01\n4. caf\xc3\n5. d\n6. e\n<|im_end|>", limits);
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(salvage_queries(p, limits), (Queries{"a b", "d"}));
  EXPECT_TRUE(salvage_queries(parse("hello", limits), limits).empty());
  ParsedList ok = parse("1. x\n<|im_end|>", limits);
  EXPECT_EQ(salvage_queries(ok, limits), Queries{"x"});
}

TEST(Grammar, ReasoningWhenNotAllowed) {
  ListLimits limits;
  limits.allow_reasoning = false;
  ParsedList p = parse("Reasoning: likes boats.\n1. sailing\n<|im_end|>", limits);
  EXPECT_FALSE(p.valid);
  EXPECT_EQ(p.error, "line 1: reasoning is not allowed");
  EXPECT_EQ(p.queries, Queries{"sailing"});
}

TEST(Grammar, ReasoningMisplacedEmptyOrOverlong) {
  EXPECT_EQ(parse("1. a\nReasoning: late\n<|im_end|>").error, "line 2: reasoning must be the first line");
  EXPECT_EQ(parse("Reasoning:\n1. a\n<|im_end|>").error, "line 1: empty reasoning");
  ListLimits limits;
  limits.max_reasoning_words = 3;
  EXPECT_EQ(parse("Reasoning: one two three four\n1. a\n<|im_end|>", limits).error,
            "line 1: reasoning has 4 words (at most 3)");
  EXPECT_TRUE(parse("Reasoning: one two three\n1. a\n<|im_end|>", limits).valid);
}

TEST(Grammar, TheFirstViolationIsReported) {
  ParsedList p = parse("1. a\n3. a\n4. one two three four five six seven\n");
  EXPECT_EQ(p.error, "missing closing token <|im_end|>");
  p = parse("1. a\n3. a\n<|im_end|>");
  EXPECT_EQ(p.error, "line 2: expected number 2, found 3");
}

TEST(Grammar, ConfigurableClosingToken) {
  ListLimits limits;
  limits.closing = "</list>";
  EXPECT_TRUE(parse("1. a\n</list>", limits).valid);
  EXPECT_EQ(parse("1. a\n<|im_end|>", limits).error, "missing closing token </list>");
}

TEST(Grammar, RenderParsesBackToTheSameList) {
  ListLimits limits;
  Queries queries = {"cheap flights lisbon", "premier league", "électricité prix"};
  std::string text = render_completion(queries, "", limits);
  EXPECT_EQ(text, "1. cheap flights lisbon\n2. premier league\n3. électricité prix\n<|im_end|>");
  ParsedList p = parse(text, limits);
  EXPECT_TRUE(p.valid) << p.error;
  EXPECT_EQ(p.queries, queries);

  text = render_completion(queries, "follows travel and sport.", limits);
  EXPECT_EQ(text.substr(0, 38), "Reasoning: follows travel and sport.\n1");
  p = parse(text, limits);
  EXPECT_TRUE(p.valid) << p.error;
  EXPECT_EQ(p.queries, queries);
  EXPECT_EQ(p.reasoning, "follows travel and sport.");
}

TEST(Grammar, RenderRefusesWhatWouldNotParse) {
  ListLimits limits;
  EXPECT_THROW(render_completion({}, "", limits), std::invalid_argument);
  EXPECT_THROW(render_completion({"a", "A"}, "", limits), std::invalid_argument);
  EXPECT_THROW(render_completion({"a\nb"}, "", limits), std::invalid_argument);
  limits.allow_reasoning = false;
  try {
    render_completion({"a"}, "because", limits);
    FAIL() << "no throw";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "render_completion: line 1: reasoning is not allowed");
  }
}

TEST(Grammar, CheckLimits) {
  EXPECT_EQ(check_limits({}), "");
  ListLimits limits;
  limits.max_queries = 0;
  EXPECT_EQ(check_limits(limits), "[grammar] max_queries: must be at least min_queries");
  limits = {};
  limits.closing = " ";
  EXPECT_EQ(check_limits(limits), "[grammar] closing: must not be empty");
}

TEST(Grammar, QueryKey) {
  EXPECT_EQ(query_key("  Cheap\tFLIGHTS  lisbon "), "cheap flights lisbon");
  EXPECT_EQ(split_on_space(" a  b\tc ").size(), 3u);
}

}  // namespace
}  // namespace newsrl::news
