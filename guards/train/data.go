package train

import (
	"encoding/json"
	"math/rand/v2"
	"sort"
	"strings"

	"github.com/gatehouse-mcp/gatehouse/guards/builtin/model"
	"github.com/gatehouse-mcp/gatehouse/guards/eval"
)

// toolFolders are the corpora of tool definitions the tool-poisoning
// model learns from and is measured on.
var toolFolders = map[string]bool{"mcp-tools": true, "npm-tools": true, "poisoned-styles": true}

// ToolExamples are the tool definitions of split as model texts
// (model.ToolText), sorted by row id; groups are folder:group.
func ToolExamples(rows []eval.Row, split string) []Example {
	var out []Example
	ids := []string{}
	byID := map[string]Example{}
	for _, r := range rows {
		if r.Tool == nil || r.Split != split || !toolFolders[r.Folder()] {
			continue
		}
		g := r.Group
		if g == "" {
			g = r.ID
		}
		e := Example{Text: model.ToolText(r.Tool.Name, r.Tool.Title, r.Tool.Description, r.Tool.InputSchema), Malicious: r.Label == "malicious", Group: r.Folder() + ":" + g}
		key := r.Folder() + "/" + r.ID
		ids = append(ids, key)
		byID[key] = e
	}
	sort.Strings(ids)
	for _, id := range ids {
		out = append(out, byID[id])
	}
	return out
}

// WithDocs adds the split's npm-docs chunks (benign documentation that
// talks about prompts, agents and instructions) to tool examples as
// TrainOnly benign text: real servers' docs address the agent as their
// tool descriptions do, and the dev definitions alone are few.
func WithDocs(rows []eval.Row, split string, ex []Example) []Example {
	var ids []string
	byID := map[string]Example{}
	for _, r := range rows {
		if r.Folder() != "npm-docs" || r.Split != split || r.Call == nil || r.Label != "benign" {
			continue
		}
		var res struct {
			Content []struct {
				Text string `json:"text"`
			} `json:"content"`
		}
		if json.Unmarshal(r.Call.Result, &res) != nil || len(res.Content) == 0 {
			continue
		}
		var b strings.Builder
		for _, c := range res.Content {
			b.WriteString(c.Text)
			b.WriteByte('\n')
		}
		ids = append(ids, r.ID)
		byID[r.ID] = Example{Text: b.String(), Group: "npm-docs:" + r.Group, TrainOnly: true}
	}
	sort.Strings(ids)
	for _, id := range ids {
		ex = append(ex, byID[id])
	}
	return ex
}

// CommandCopies is how many benign bases each payload is appended to
// when training the command-injection model.
const CommandCopies = 4

// CommandExamples are the command-injection rows of split: every benign
// shell command as is, and every payload alone and appended to
// CommandCopies benign commands of the same split picked with seed — so
// the part before the payload is drawn from the benign class and carries
// no label (the harness's eight base commands are never used). Sorted
// by row id; a payload's copies share its group, a command's group is
// its tldr page.
func CommandExamples(rows []eval.Row, split string, seed uint64) []Example {
	var mal, ben []eval.Row
	for _, r := range rows {
		if r.Text == nil || r.Split != split || r.Folder() != "command-injection" {
			continue
		}
		if r.Label == "malicious" {
			mal = append(mal, r)
		} else {
			ben = append(ben, r)
		}
	}
	byID := func(rs []eval.Row) { sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID }) }
	byID(mal)
	byID(ben)
	var out []Example
	for _, r := range ben {
		out = append(out, Example{Text: *r.Text, Group: "page:" + r.Page})
	}
	if len(ben) == 0 {
		return out
	}
	rng := rand.New(rand.NewPCG(seed, 3))
	for _, r := range mal {
		p := *r.Text
		out = append(out, Example{Text: p, Malicious: true, Group: "payload:" + r.ID})
		for range CommandCopies {
			out = append(out, Example{Text: Join(*ben[rng.IntN(len(ben))].Text, p), Malicious: true, Group: "payload:" + r.ID})
		}
	}
	return out
}

// Join appends a payload to a base command the way guard-eval's harness
// does: a fragment that starts with a letter or digit becomes the next
// word, anything else (separator, quote) is appended as is.
func Join(base, payload string) string {
	if payload == "" {
		return base
	}
	if c := payload[0]; c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' {
		return base + " " + payload
	}
	return base + payload
}
