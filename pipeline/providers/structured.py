"""Ask a text model for JSON of a pydantic model; repair invalid answers by asking again."""

import json
from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from pipeline.providers.errors import InvalidModelOutput
from pipeline.providers.text import TextProvider, TextRequest, TextResponse

M = TypeVar("M", bound=BaseModel)
MAX_REPAIRS = 2

# The protocol's own prompts (any text task's, not one asset's). They are part of request bodies, so of
# the response cache's keys: changing a byte asks every cached call again.
REPAIR = """Your previous answer was not valid. Problems:
{problems}
Answer again with the whole corrected JSON only."""

# Added to the system prompt when the answer must be JSON: `json_object` mode needs the word JSON
# in the messages, and the schema tells the model the exact shape.
JSON_ANSWER = "\n\nAnswer with one JSON object only, no prose and no code fence, matching this JSON Schema:\n{schema}"


def _parse(text: str, model: type[M]) -> tuple[M | None, list[str]]:
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`").removeprefix("json").strip()
    try:
        return model.model_validate(json.loads(body)), []
    except json.JSONDecodeError as e:
        return None, [f"not valid JSON: {e}"]
    except ValidationError as e:
        return None, [f"{'.'.join(map(str, err['loc'])) or 'answer'}: {err['msg']}" for err in e.errors()]


def ask_structured(
    provider: TextProvider,
    request: TextRequest,
    model: type[M],
    rules: Callable[[M], list[str]] | None = None,
    max_repairs: int = MAX_REPAIRS,
) -> tuple[M, list[TextResponse]]:
    """The model's answer parsed as `model` and passing `rules`, and every response it took.

    Raises InvalidModelOutput naming every remaining problem after `max_repairs` repairs.
    """
    responses: list[TextResponse] = []
    current = request.model_copy(update={"json_schema": model.model_json_schema()})
    problems: list[str] = []
    for attempt in range(max_repairs + 1):
        response = provider.generate(current)
        responses.append(response)
        value, problems = _parse(response.text, model)
        if value is not None and rules is not None:
            problems = rules(value)
        if value is not None and not problems:
            return value, responses
        repair = REPAIR.format(problems="\n".join(f"- {p}" for p in problems))
        current = current.model_copy(update={
            "prompt": f"{request.prompt}\n\nPrevious answer:\n{response.text}\n\n{repair}",
            "attempt": attempt + 1,
            "inputs": {**request.inputs, "problems": problems},
        })
    raise InvalidModelOutput(provider.name, f"the {request.task}", problems, task=request.task, role="text")
