#!/usr/bin/env python3
"""Build tests/fixtures/chat/cases.json: test conversations with the prompt the
official Gemma 4 chat template renders for each.

The template itself is not part of this repository.  To regenerate, pass the
small (E2B/E4B) and large (26B/31B) chat_template.jinja files shipped with the
checkpoints; rendering uses jinja2 the way transformers' apply_chat_template
does (sandboxed, trim_blocks, lstrip_blocks, bos_token "<bos>"):

    /usr/bin/python3 tests/chat/gen_cases.py SMALL.jinja LARGE.jinja

Without arguments it only checks that the case list and the stored file agree
on names.  tests/chat/test_chat.c renders every case with gm_chat_render and
compares bytes.
"""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.normpath(os.path.join(HERE, "..", "fixtures", "chat", "cases.json"))

S = {"role": "system", "content": "You are a helpful assistant."}


def U(t):
    return {"role": "user", "content": t}


def A(t):
    return {"role": "assistant", "content": t}


def call(name, args, id=None):
    c = {"type": "function", "function": {"name": name, "arguments": args}}
    if id:
        c["id"] = id
    return c


def T(content, id=None, name=None):
    m = {"role": "tool", "content": content}
    if id:
        m["tool_call_id"] = id
    if name:
        m["name"] = name
    return m


WEATHER = {"type": "function", "function": {
    "name": "get_current_temperature",
    "description": "Gets the current temperature for a given location.",
    "parameters": {"type": "object",
                   "properties": {"location": {"type": "string",
                                               "description": "The city name, e.g. San Francisco"}},
                   "required": ["location"]}}}
RICH = {"type": "function", "function": {"name": "search_files", "description": "Search files.",
    "parameters": {"type": "object", "properties": {
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Unit"},
        "paths": {"type": "array", "items": {"type": "string"}, "description": "Paths to search"},
        "Limit": {"type": "integer", "description": "Max hits", "nullable": True},
        "ratio": {"type": "number"},
        "flag": {"type": "boolean", "description": "A flag"},
        "opts": {"type": "object", "description": "Options",
                 "properties": {"depth": {"type": "integer", "description": "d"},
                                "Case": {"type": "string", "enum": ["a", "b"]}},
                 "required": ["depth"]},
        "rows": {"type": "array", "description": "Rows",
                 "items": {"type": "object",
                           "properties": {"k": {"type": "string"},
                                          "v": {"type": "number", "description": "val"}},
                           "required": ["k"]}},
        "matrix": {"type": "array", "items": {"type": "array", "items": {"type": "integer"}}},
        "multi": {"type": "array", "items": {"type": ["string", "null"], "enum": ["x", "y"],
                                             "description": "multi", "default": None, "minItems": 1}},
        "extra": {"type": "object", "description": "free form",
                  "additionalProperties": {"type": "string"}, "title": "Extra"},
        "kind": {"type": ["string", "null"], "description": "union"},
        "notype": {"description": "no type here"},
    }, "required": ["unit", "paths"]}}}
RESP = {"type": "function", "function": {"name": "ping", "description": "Ping.",
        "parameters": {"type": "object", "properties": {}},
        "response": {"type": "object", "description": "The reply"}}}
NOTYPE = {"type": "function", "function": {"name": "noparams_type", "description": "x",
          "parameters": {"properties": {"a": {"type": "string"}}}}}
NOPARAM = {"type": "function", "function": {"name": "now", "description": "Current time"}}


def cases():
    out = []

    def add(name, messages, tools=None, think=False, large=False, gen=True):
        out.append(dict(name=name, messages=messages, tools=tools, think=think, large=large, gen=gen))

    for large in (False, True):
        s = "_large" if large else "_small"
        add("sys_user" + s, [S, U("Hello.")], large=large)
        add("user_only" + s, [U("Hello.")], large=large)
        add("think_nosys" + s, [U("What is the water formula?")], think=True, large=large)
        add("think_sys" + s, [S, U("Hi")], think=True, large=large)
        add("tools_sys" + s, [S, U("What's the temperature in London?")], tools=[WEATHER], large=large)
        add("tools_nosys_think" + s, [U("What's the temperature in London?")], tools=[WEATHER],
            think=True, large=large)
        add("multi_turn_think" + s, [U("What is the water formula?"),
            A("<|channel>thought\nThinking...<channel|>The term \"water formula\" can refer to H2O."),
            U("What is its boiling point in Celsius?")], think=True, large=large)
        add("tool_loop_native" + s, [U("Weather in Tokyo?"), {"role": "assistant",
            "tool_calls": [call("get_current_weather", {"location": "Tokyo, JP"})],
            "tool_responses": [{"name": "get_current_weather",
                                "response": {"temperature": 15, "weather": "sunny"}}]}], large=large)
        add("tool_loop_native_done" + s, [U("Weather in Tokyo?"), {"role": "assistant",
            "tool_calls": [call("get_current_weather", {"location": "Tokyo, JP"})],
            "tool_responses": [{"name": "get_current_weather",
                                "response": {"temperature": 15, "weather": "sunny"}}],
            "content": "The current weather in Tokyo is 15 degrees and sunny."}, U("Thanks")], large=large)
        add("tool_openai" + s, [U("Weather in Tokyo?"), {"role": "assistant", "content": None,
            "tool_calls": [call("get_current_weather", {"location": "Tokyo, JP"}, "c1")]},
            T("15 degrees, sunny", "c1")], large=large)
        add("tool_openai_answer" + s, [U("Weather in Tokyo?"), {"role": "assistant", "content": None,
            "tool_calls": [call("get_current_weather", {"location": "Tokyo, JP"}, "c1")]},
            T("15 degrees, sunny", "c1"), A("It is 15 degrees and sunny."), U("And Paris?")],
            tools=[WEATHER], large=large)
        add("reasoning_current" + s, [S, U("Weather in Tokyo and Paris?"), {"role": "assistant",
            "reasoning_content": "I need two calls.",
            "tool_calls": [call("get_weather", {"city": "Tokyo"}, "a"),
                           call("get_weather", {"city": "Paris"}, "b")]},
            T("sunny", "b"), T("rainy", "a")], think=True, large=large)
        add("reasoning_old" + s, [U("Q1"), {"role": "assistant", "reasoning": "old thoughts",
            "tool_calls": [call("f", {"x": 1}, "a")]}, T("r1", "a"), A("answer one"), U("Q2"),
            {"role": "assistant", "reasoning": "new thoughts", "content": "",
             "tool_calls": [call("f", {"x": 2}, "b")]}, T("r2", "b")], think=True, large=large)
        add("call_pending" + s, [U("Do it"), {"role": "assistant", "tool_calls": [call("run",
            {"cmd": "ls -la", "timeout": 30, "env": {"B": "2", "a": "1"},
             "args": ["-l", 3, 1.5, True, None]})]}], large=large)
        add("rich_tools" + s, [S, U("go")], tools=[RICH, RESP, NOTYPE, NOPARAM], large=large)
        add("gen_false" + s, [S, U("Hello."), A("Hi there!")], gen=False, large=large)
    add("content_parts", [{"role": "system", "content": [{"type": "text", "text": " Be brief. "},
                                                          {"type": "text", "text": "Be kind."}]},
        {"role": "user", "content": [{"type": "text", "text": "  part one "},
                                     {"type": "text", "text": "part two"}]},
        {"role": "assistant", "content": [{"type": "text", "text": "<|channel>x<channel|> ok "}]},
        U("more")])
    add("developer_first", [{"role": "developer", "content": "Dev rules."}, U("hi")])
    add("system_later", [U("hi"), {"role": "system", "content": "  late system  "}, U("again")])
    add("unicode_trim", [U("\u00a0\u3000 h\u00e9llo w\u00f6rld \u2003\n"), A("\u2028 done \t")])
    add("args_string_verbatim", [U("x"), {"role": "assistant", "tool_calls": [call("f", "not json at all")]}])
    add("tool_content_parts", [U("x"), {"role": "assistant", "tool_calls": [call("f", {"q": "a"}, "i1")]},
        {"role": "tool", "tool_call_id": "i1",
         "content": [{"type": "text", "text": "part1 "}, {"type": "text", "text": "part2"}]}])
    add("tool_no_ids", [U("x"), {"role": "assistant", "tool_calls": [call("only", {"q": "a"})]},
        {"role": "tool", "content": "result"}])
    add("tool_name_field", [U("x"), {"role": "assistant",
        "tool_calls": [call("f1", {}, "x1"), call("f2", {}, "x2")]},
        T("one", "x1", "f1"), T("two", "x2", "f2"), A("both done")])
    add("numbers", [U("x"), {"role": "assistant", "tool_calls": [call("n", {"a": 0, "b": -7, "c": 0.1,
        "d": 1e-05, "e": 1e20, "f": 123456.789, "g": -2.5e-7, "i": 1.7976931348623157e308,
        "j": 1e16, "k": 123456789012345.6})]}])
    add("keys_case", [U("x"), {"role": "assistant", "tool_calls": [call("k",
        {"b": 1, "B": 2, "a": 3, "_u": 4, "Z": 5, "\u00e9": 6, "1": 7})]}])
    add("two_assistants", [U("x"), A("first"), A("second")])
    add("media_parts", [{"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image"}]}])
    add("assistant_content_and_calls", [U("x"), {"role": "assistant", "content": "Let me check.",
        "tool_calls": [call("f", {"a": "b"}, "1")]}, T("done", "1"), {"role": "assistant", "content": "All good."}])
    add("empty_system", [{"role": "system", "content": ""}, U("x")])
    add("null_system", [{"role": "system", "content": None}, U("x")], think=True)
    add("strings_special", [U("x"), {"role": "assistant", "tool_calls": [call("s",
        {"q": "line1\nline2 \"quoted\" {brace} <|\"|>", "empty": ""})]}])
    return out


# Random conversations (fixed seed): schemas, values and message mixes the
# hand-written cases do not reach.  Object nodes without "properties" get a
# random non-"type" key, since a dict-valued type would print a Python repr.
WORDS = ["a", "B", "zeta", "Alpha", "x_y", "\u00e9", "key", "Key", "1", "_", "name", "type",
         "description", "required"]
STRS = ["", " ", "hello", "  padded  ", "line\nbreak", "quote\"s", "uni\u00e9\u3000",
        "<|channel>t<channel|>x", "{brace}", "tab\t", "\u00a0nbsp\u00a0"]


def random_cases(seed, count):
    import random
    R = random.Random(seed)

    def rstr():
        return R.choice(STRS)

    def rval(d=0):
        k = R.randrange(8 if d < 3 else 5)
        if k == 0:
            return rstr()
        if k == 1:
            return R.choice([0, 1, -5, 42, 1234567])
        if k == 2:
            return R.choice([0.5, -2.25, 1e-7, 3.14159, 1e22, 0.1])
        if k == 3:
            return R.choice([True, False])
        if k == 4:
            return None
        if k == 5:
            return [rval(d + 1) for _ in range(R.randrange(4))]
        return {R.choice(WORDS): rval(d + 1) for _ in range(R.randrange(4))}

    def rschema(d=0):
        t = R.choice(["string", "integer", "number", "boolean", "array", "object", "STRING", None])
        s = {}
        if t:
            s["type"] = t
        if R.random() < 0.6:
            s["description"] = rstr()
        if R.random() < 0.2:
            s["nullable"] = R.choice([True, False])
        if t in ("string", "STRING") and R.random() < 0.5:
            s["enum"] = [rstr() for _ in range(R.randrange(3))]
        if t == "array" and d < 3 and R.random() < 0.8:
            s["items"] = rschema(d + 1)
            if R.random() < 0.3:
                s["items"]["extra"] = rval(2)
        if t == "object" and d < 3:
            if R.random() < 0.8:
                s["properties"] = {R.choice(WORDS): rschema(d + 1) for _ in range(R.randrange(4))}
            else:
                s[R.choice([w for w in WORDS if w != "type"])] = rschema(d + 1)
            if R.random() < 0.5:
                s["required"] = [R.choice(WORDS) for _ in range(R.randrange(3))]
        if R.random() < 0.1:
            s["default"] = rval(2)
        return s

    def rtool():
        f = {"name": R.choice(["f", "get_x", "Tool.Name", "t-1"]), "description": rstr()}
        if R.random() < 0.8:
            f["parameters"] = {"type": "object",
                               "properties": {R.choice(WORDS): rschema() for _ in range(R.randrange(5))}}
            if R.random() < 0.5:
                f["parameters"]["required"] = [R.choice(WORDS) for _ in range(R.randrange(3))]
            if R.random() < 0.1:
                del f["parameters"]["type"]
        if R.random() < 0.1:
            f["response"] = {"type": R.choice(["object", "string"]), "description": rstr()}
        return {"type": "function", "function": f}

    def rcontent():
        if R.random() < 0.2:
            return [{"type": "text", "text": rstr()} for _ in range(R.randrange(3))]
        if R.random() < 0.1:
            return None
        return rstr()

    out = []
    for n in range(count):
        msgs = []
        if R.random() < 0.4:
            msgs.append({"role": R.choice(["system", "developer"]), "content": rcontent()})
        for _ in range(R.randrange(1, 6)):
            r = R.random()
            if r < 0.4:
                msgs.append({"role": "user", "content": rcontent()})
            elif r < 0.6:
                msgs.append({"role": "assistant", "content": rcontent()})
            else:
                ids = R.random() < 0.7
                calls = []
                for j in range(R.randrange(1, 4)):
                    c = call(R.choice(["f", "g", "h"]),
                             {R.choice(WORDS): rval() for _ in range(R.randrange(4))})
                    if ids:
                        c["id"] = "id%d" % j
                    calls.append(c)
                m = {"role": "assistant", "tool_calls": calls}
                if R.random() < 0.5:
                    m["reasoning_content" if R.random() < 0.5 else "reasoning"] = rstr() or "th"
                if R.random() < 0.4:
                    m["content"] = rcontent()
                msgs.append(m)
                if R.random() < 0.2:
                    m["tool_responses"] = [{"name": R.choice(["f", "g"]), "response": rval()}
                                           for _ in range(R.randrange(1, 3))]
                    continue
                for j in range(R.randrange(0, len(calls) + 1)):
                    t = {"role": "tool", "content": R.choice([rstr() + "z", [{"type": "text", "text": rstr()}]])}
                    if ids:
                        t["tool_call_id"] = "id%d" % R.randrange(len(calls))
                    else:
                        t["name"] = R.choice(["f", "g", "h"])
                    msgs.append(t)
                if R.random() < 0.5:
                    msgs.append({"role": "assistant", "content": rcontent()})
        tools = [rtool() for _ in range(R.randrange(3))] if R.random() < 0.5 else None
        out.append(dict(name="random_%03d" % n, messages=msgs, tools=tools, think=R.random() < 0.5,
                        large=R.random() < 0.5, gen=R.random() < 0.8))
    return out


def main():
    cs = cases() + random_cases(2026, 80)
    if len(sys.argv) != 3:
        stored = json.load(open(OUT, encoding="utf-8"))
        same = [c["name"] for c in cs] == [c["name"] for c in stored]
        print("ok - case list matches %s" % os.path.relpath(OUT) if same else "not ok - case list differs from the stored file")
        sys.exit(0 if same else 1)
    import jinja2
    import jinja2.ext
    from jinja2.sandbox import ImmutableSandboxedEnvironment
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    tpl = {False: env.from_string(open(sys.argv[1], encoding="utf-8").read()),
           True: env.from_string(open(sys.argv[2], encoding="utf-8").read())}
    for c in cs:
        kw = dict(messages=c["messages"], bos_token="<bos>", add_generation_prompt=c["gen"])
        if c["tools"] is not None:
            kw["tools"] = c["tools"]
        if c["think"]:
            kw["enable_thinking"] = True
        c["expect"] = tpl[c["large"]].render(**kw)
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(cs, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print("wrote %d cases to %s" % (len(cs), os.path.relpath(OUT)))


if __name__ == "__main__":
    main()
