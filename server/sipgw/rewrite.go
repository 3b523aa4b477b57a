package sipgw

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/onecxi/phone/wire"
)

// maxPattern bounds a rule's regular expression; longer ones are surely a
// mistake and cost memory to compile.
const maxPattern = 512

// Rule rewrites a number. Either Match is set (a regular expression that
// must match the whole number, whose submatches Replace may use as $1...),
// or StripPrefix and AddPrefix are: a number starting with StripPrefix
// (every number, if it is empty) loses it and gains AddPrefix.
type Rule struct {
	Match       *regexp.Regexp
	Replace     string
	StripPrefix string
	AddPrefix   string
}

// Rules are tried in order; the first that applies rewrites the number.
type Rules []Rule

type ruleFile struct {
	Match       string `json:"match"`
	Replace     string `json:"replace"`
	StripPrefix string `json:"stripPrefix"`
	AddPrefix   string `json:"addPrefix"`
}

// parseRules compiles rules; an error's text starts with the rule's index
// ("[2].match: ...") so the caller can prefix its field name.
func parseRules(fs []ruleFile) (Rules, error) {
	rs := make(Rules, 0, len(fs))
	for i, f := range fs {
		r, err := parseRule(f)
		if err != nil {
			return nil, fmt.Errorf("[%d].%w", i, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

func parseRule(f ruleFile) (Rule, error) {
	switch {
	case f.Match != "" && (f.StripPrefix != "" || f.AddPrefix != ""):
		return Rule{}, fmt.Errorf("match: give match/replace or stripPrefix/addPrefix, not both: %w", ErrBadRule)
	case f.Match != "":
		if len(f.Match) > maxPattern {
			return Rule{}, fmt.Errorf("match: longer than %d characters: %w", maxPattern, ErrBadRule)
		}
		// Anchored: a rule that matched part of a number would surprise.
		re, err := regexp.Compile("^(?:" + f.Match + ")$")
		if err != nil {
			return Rule{}, fmt.Errorf("match: %s: %w: %w", wire.Quote(f.Match), ErrBadRule, wire.QuoteError(err))
		}
		return Rule{Match: re, Replace: f.Replace}, nil
	case f.Replace != "":
		return Rule{}, fmt.Errorf("replace: needs match: %w", ErrBadRule)
	case f.StripPrefix == "" && f.AddPrefix == "":
		return Rule{}, fmt.Errorf("match: a rule needs match or stripPrefix/addPrefix: %w", ErrBadRule)
	}
	return Rule{StripPrefix: f.StripPrefix, AddPrefix: f.AddPrefix}, nil
}

// apply rewrites n if the rule applies to it.
func (r Rule) apply(n string) (string, bool) {
	if r.Match != nil {
		m := r.Match.FindStringSubmatchIndex(n)
		if m == nil {
			return n, false
		}
		return string(r.Match.ExpandString(nil, r.Replace, n, m)), true
	}
	rest, ok := strings.CutPrefix(n, r.StripPrefix)
	if !ok {
		return n, false
	}
	return r.AddPrefix + rest, true
}

// Apply returns n rewritten by the first rule that applies, or n unchanged.
func (rs Rules) Apply(n string) string {
	for _, r := range rs {
		if out, ok := r.apply(n); ok {
			return out
		}
	}
	return n
}

// matchTrunk returns the first trunk whose prefixes match the dialled
// number (a trunk without prefixes takes every number), or -1.
func matchTrunk(trunks []Trunk, number string) int {
	for i, t := range trunks {
		if len(t.Prefixes) == 0 {
			return i
		}
		for _, p := range t.Prefixes {
			if strings.HasPrefix(number, p) {
				return i
			}
		}
	}
	return -1
}
