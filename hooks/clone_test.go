package hooks

import (
	"net/http"
	"reflect"
	"testing"
)

func TestCloneHeader(t *testing.T) {
	for _, h := range []http.Header{
		{},
		{"A": {"1"}},
		{"A": {"1"}, "B": {"2", "3", "4"}, "C": {"5"}},        // more values than one per name
		{"Multi": {"1", "2", "3", "4", "5", "6"}, "X": {"7"}}, // more values than the array holds
		{"Nil": nil, "Empty": {}, "A": {"1"}},
	} {
		want := h.Clone()
		out, extra := cloneHeader(h, 2)
		if !reflect.DeepEqual(out, want) {
			t.Errorf("cloneHeader(%v) = %v", h, out)
		}
		if len(extra) != 2 || cap(extra) != 2 {
			t.Errorf("extra: len %d cap %d, want 2 and 2", len(extra), cap(extra))
		}
		extra[0], extra[1] = "age", "length"
		out["Age"], out["Content-Length"] = extra[0:1:1], extra[1:2:2]
		for name, vs := range out {
			if cap(vs) != len(vs) {
				t.Errorf("%s: cap %d, want its len %d", name, cap(vs), len(vs))
			}
			for i := range vs {
				vs[i] = "changed"
			}
			out[name] = append(vs, "appended")
		}
		if !reflect.DeepEqual(h, want) {
			t.Errorf("changing the copy changed the original: %v, want %v", h, want)
		}
		for name, vs := range out {
			for i, v := range vs[:len(vs)-1] {
				if v != "changed" {
					t.Errorf("%s[%d] = %q: another name's append wrote over it", name, i, v)
				}
			}
		}
	}
}
