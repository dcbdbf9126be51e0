"""MAGDA connector: request builders, reply parser, fact mapping and HTTP transport.

- `envelope`  criteria per service → SOAP request (≤ 5 questions; `build_requests` batches)
- `parsers`   reply / SOAP fault → `MagdaResponse` (answers, facts, typed `Uitzondering`)
- `errors`    `ErrorKind` classification of every exception code; the errors raised here
- `facts`     parsed answers → catalogue fact values (`Known`) or `Unavailable` (typed)
- `settings`  `MagdaSettings` (env ``ENTITLE_MAGDA_*``, TOML/YAML file)
- `transport` `MagdaClient` / `AsyncMagdaClient`: retries, circuit breakers, concurrency, mTLS

See ``docs/magda.md``.
"""

from entitle.sources.magda.envelope import (
    AanslagbiljetCriteria,
    BuiltRequest,
    Criteria,
    DossierHandicapCriteria,
    GezinssamenstellingCriteria,
    HistoriekGezinssamenstellingCriteria,
    HistoriekInschrijvingCriteria,
    LeefloonbedragenCriteria,
    PersoonCriteria,
    Question,
    SociaalStatuutCriteria,
    batched,
    build_request,
    build_requests,
)
from entitle.sources.magda.errors import (
    ErrorKind,
    MagdaConfigError,
    MagdaError,
    MagdaParseError,
    NotMagdaResponseError,
    Uitzondering,
    UnsupportedServiceError,
    classify,
)
from entitle.sources.magda.facts import (
    FACT_SERVICES,
    STATUS_FACTS,
    FactOutcome,
    Known,
    Unavailable,
    facts_for_service,
    map_facts,
    statuses_for,
)
from entitle.sources.magda.parsers import Answer, MagdaResponse, SoapFault, parse_response
from entitle.sources.magda.services import MAX_QUESTIONS, SERVICES, ServiceSpec, service_spec
from entitle.sources.magda.settings import MagdaSettings, load_settings
from entitle.sources.magda.transport import (
    AsyncMagdaClient,
    BreakerRegistry,
    BreakerState,
    CircuitBreaker,
    ExchangeRecord,
    MagdaClient,
    QuestionResult,
    facts_of,
)

__all__ = [
    "FACT_SERVICES",
    "MAX_QUESTIONS",
    "SERVICES",
    "STATUS_FACTS",
    "AanslagbiljetCriteria",
    "Answer",
    "AsyncMagdaClient",
    "BreakerRegistry",
    "BreakerState",
    "BuiltRequest",
    "CircuitBreaker",
    "Criteria",
    "DossierHandicapCriteria",
    "ErrorKind",
    "ExchangeRecord",
    "FactOutcome",
    "GezinssamenstellingCriteria",
    "HistoriekGezinssamenstellingCriteria",
    "HistoriekInschrijvingCriteria",
    "Known",
    "LeefloonbedragenCriteria",
    "MagdaClient",
    "MagdaConfigError",
    "MagdaError",
    "MagdaParseError",
    "MagdaResponse",
    "MagdaSettings",
    "NotMagdaResponseError",
    "PersoonCriteria",
    "Question",
    "QuestionResult",
    "ServiceSpec",
    "SoapFault",
    "SociaalStatuutCriteria",
    "Uitzondering",
    "Unavailable",
    "UnsupportedServiceError",
    "batched",
    "build_request",
    "build_requests",
    "classify",
    "facts_for_service",
    "facts_of",
    "load_settings",
    "map_facts",
    "parse_response",
    "service_spec",
    "statuses_for",
]
