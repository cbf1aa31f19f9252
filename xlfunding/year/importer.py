"""Import last year's annex (its text, or an annex workbook this tool wrote) as a filled
standard template, checking it as it goes.

Each action's names are matched to the settings (case, accents and spacing forgiven); its
funders must add up to its total; the annex's own totals block must agree with the imported
actions. One cause gives one problem: a block line that disagrees only because of an amount
already reported (an unknown funder's, a line not understood, an action whose total or funder
was mistyped) is not reported again; the action's problem says which number the block confirms.
Whatever is not imported is kept, with its line, in the « Non importé » sheet of the output.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from xlfunding.errors import UnreadableFile
from xlfunding.identity import Decision, decision_from_stamp
from xlfunding.model import Action, Location
from xlfunding.money import ZERO, format_euros
from xlfunding.problems import Problem, Report
from xlfunding.read.archive import Archive
from xlfunding.settings import Funder, Settings, extended_settings, load_settings
from xlfunding.text import name_key
from xlfunding.year.import_book import read_workbook
from xlfunding.year.import_text import (
    NOT_IMPORTED_SHEET,
    TOTAL_LABEL,
    BlockLine,
    Leftover,
    RawAction,
    SourceRead,
    Where,
    parse_text,
    read_text,
)
from xlfunding.year.totals import Gap, TotalsCheck

__all__ = ["ImportResult", "import_annex", "source_kind"]


@dataclass
class ImportResult:
    """What an import found: the actions, the problems, and what was not imported."""

    source: Path
    settings: Settings  # the output's settings: the given ones, plus any funder added
    actions: tuple[Action, ...]
    report: Report
    leftovers: tuple[Leftover, ...] = ()  # whole lines, and unknown funders' amounts
    added_funders: tuple[Funder, ...] = ()
    checked_totals: tuple[BlockLine, ...] = ()  # the annex's totals block lines compared
    inputs: tuple[Path, ...] = ()  # the files read (the annex, the settings): never overwritten
    heading: tuple[str, ...] = ()  # the document's lines above the table
    decision: Decision | None = None  # from the prefecture's stamp, when there is one

    @property
    def problems(self) -> list[Problem]:
        return self.report.problems

    @property
    def unparsed(self) -> tuple[Leftover, ...]:
        """The lines (or annex cells) that could not be understood at all."""
        return tuple(item for item in self.leftovers if item.whole)


def import_annex(
    path: Path | str, settings: Settings | None = None, *, add_funders: str | None = None
) -> ImportResult:
    """Read an annex: its text (.txt copied from the PDF or Word file) or an annex workbook.

    ``add_funders`` names a group of the settings: a funder the settings do not know is then
    added to it (``result.settings`` is the extended settings) instead of being a problem.
    Raises ``UnreadableFile`` (naming the file) only when the file cannot be read as an annex.
    """
    path = Path(path)
    settings = settings or load_settings()
    group = settings.group_named(add_funders) if add_funders is not None else None
    kind = source_kind(path)
    read = read_workbook(path) if kind == "xlsx" else parse_text(read_text(path), path, settings)
    return _Resolver(read, settings, group).run()


def source_kind(path: Path) -> str:
    """« xlsx » or « text »; ``UnreadableFile`` for a PDF, a Word file or a missing file."""
    if not path.is_file():
        raise UnreadableFile(path, "fichier introuvable" if not path.exists() else "pas un fichier")
    with path.open("rb") as handle:
        head = handle.read(8)
    copy = (
        "copiez le tableau de l'annexe (intitulé, description, porteur, budget, puis les "
        "totaux) dans un fichier texte .txt et importez ce fichier"
    )
    if head.startswith(b"PK"):
        with Archive(path) as archive:  # the package's bounds apply before anything is read
            if "word/document.xml" in archive.names:
                raise UnreadableFile(path, f"document Word : {copy}")
        return "xlsx"
    if head.startswith(b"%PDF"):
        raise UnreadableFile(path, f"document PDF : {copy}")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UnreadableFile(path, f"ancien format Word ou Excel : {copy}")
    return "text"


# -- names, actions, checks ---------------------------------------------------------------------
class _Names:
    """The settings' names by their forgiving key."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.axes = {name_key(a): a for a in settings.axes}
        self.sponsors = {name_key(s): s for s in settings.sponsors}
        self.groups = {name_key(g): g for g in settings.groups}
        self.funders = {name_key(f.label): f.code for f in settings.funders}
        self.funders.update({name_key(f.code): f.code for f in settings.funders})

    def funder(self, name: str) -> str | None:
        return self.funders.get(name_key(name))

    def group_of(self, code: str) -> str:
        return self.settings.funder(code).group

    def nearest_funder(self, name: str) -> str | None:
        close = difflib.get_close_matches(name_key(name), list(self.funders), n=1, cutoff=0.75)
        return self.funders[close[0]] if close else None


@dataclass
class _Resolver:
    read: SourceRead
    settings: Settings
    add_to: str | None
    problems: list[Problem] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    given: Settings = field(init=False)  # the settings before any funder is added

    def __post_init__(self) -> None:
        self.given = self.settings

    def problem(self, code: str, where: Where, value: object = None, **fields: Any) -> None:
        self.problems.append(
            Problem.make(
                code,
                file=self.read.path,
                sheet=where.sheet,
                cell=where.cell,
                value=value,
                **fields,
            )
        )

    def run(self) -> ImportResult:
        read = self.read
        self.problems.extend(read.problems)
        self.leftovers.extend(read.leftovers)
        added = self._extend_settings()
        names = _Names(self.settings)
        axes = self._axes(names)
        unattributed: list[tuple[Decimal, str | None]] = []  # (amount, likely group)
        gaps: list[Gap] = []
        actions = [self._action(raw, names, axes, unattributed, gaps) for raw in read.actions]
        block = [b for b in (self._block_line(b, names) for b in read.block) if b is not None]
        TotalsCheck(self.settings, names, block, self.problem).run(
            actions, self.leftovers, unattributed, gaps
        )
        for item in read.leftovers:
            self.problem(
                "line-not-understood",
                item.where,
                item.text,
                variant="with-budget" if item.budget is not None else "",
                reason=item.reason,
                tab=NOT_IMPORTED_SHEET,
                total=format_euros(item.budget.total) if item.budget is not None else "",
            )
        if not actions:
            self.problems.append(Problem.make("no-actions", variant="imported", file=read.path))
        self.problems.sort(key=_sort_key)
        self.leftovers.sort(key=lambda item: item.line)
        report = Report(files=[read.path], actions=actions, problems=self.problems)
        stamped = (decision_from_stamp(acte) for acte in read.stamps)
        decision = next((d for d in stamped if d is not None), None)
        return ImportResult(
            read.path,
            self.settings,
            tuple(actions),
            report,
            tuple(self.leftovers),
            added,
            tuple(block),
            tuple(p for p in (read.path, self.given.path) if p is not None),
            tuple(read.heading),
            decision,
        )

    def _extend_settings(self) -> tuple[Funder, ...]:
        if self.add_to is None:
            return ()
        names = _Names(self.settings)
        new: dict[str, str] = {}
        for raw in self.read.actions:
            for name, _ in raw.budget.items:
                if names.funder(name) is None:
                    new.setdefault(name_key(name), name)
        if not new:
            return ()
        self.settings = extended_settings(self.settings, list(new.values()), self.add_to)
        return tuple(f for f in self.settings.funders if name_key(f.code) in new)

    def _axes(self, names: _Names) -> dict[str, str]:
        found: dict[str, str] = {}
        for row in self.read.axes:
            canonical = names.axes.get(name_key(row.name))
            if canonical is None:
                self.problem(
                    "unknown-axis",
                    row.where,
                    row.name,
                    variant="imported",
                    axes=" ; ".join(self.settings.axes),
                )
            found[row.name] = canonical or row.name
        return found

    def _action(
        self,
        raw: RawAction,
        names: _Names,
        axes: dict[str, str],
        unattributed: list[tuple[Decimal, str | None]],
        gaps: list[Gap],
    ) -> Action:
        if not raw.axis:
            self.problem("missing-value", raw.where, variant="import-axis")
        sponsor = names.sponsors.get(name_key(raw.sponsor))
        if sponsor is None and raw.sponsor:
            self.problem(
                "unknown-sponsor",
                raw.cell("sponsor"),
                raw.sponsor,
                variant="imported",
                sponsors=", ".join(self.settings.sponsors),
            )
        elif sponsor is None:
            self.problem("missing-value", raw.cell("sponsor"), variant="import-sponsor")
        funding: dict[str, Decimal] = {}
        for name, amount in raw.budget.items:
            code = names.funder(name)
            if code is None:
                self._unknown_funder(raw, name, amount, names, unattributed)
            elif amount:
                funding[code] = funding.get(code, ZERO) + amount
        if raw.budget.funded != raw.budget.total:
            gaps.append(Gap(raw, raw.budget.funded))
        return Action(
            axis=axes.get(raw.axis, raw.axis),
            title=raw.title,
            description=raw.description,
            sponsor=sponsor or raw.sponsor,
            total=raw.budget.total,
            funding=funding,
            source=Location(self.read.path, raw.where.sheet or "", raw.where.line),
        )

    def _unknown_funder(
        self,
        raw: RawAction,
        name: str,
        amount: Decimal,
        names: _Names,
        unattributed: list[tuple[Decimal, str | None]],
    ) -> None:
        nearest = names.nearest_funder(name)
        where = raw.cell(name)
        self.problem(
            "unknown-funder",
            where,
            name,
            variant="nearest" if nearest else "",
            name=name,
            nearest=nearest,
            amount=format_euros(amount),
        )
        self.leftovers.append(
            Leftover(
                where,
                f"{name} = {format_euros(amount)}",
                f"financeur inconnu « {name} » : montant non importé (action « {raw.title} »)",
                whole=False,
            )
        )
        unattributed.append((amount, names.group_of(nearest) if nearest else None))

    def _block_line(self, line: BlockLine, names: _Names) -> BlockLine | None:
        if line.label == TOTAL_LABEL or line.label in self.settings.groups:
            return line
        group = names.groups.get(name_key(line.label))
        if group is None:
            self.leftovers.append(
                Leftover(
                    line.where,
                    f"{line.label} : {format_euros(line.amount)}",
                    f"groupe « {line.label} » absent des paramètres : ce total n'a pas été vérifié",
                )
            )
            return None
        return BlockLine(line.where, group, line.amount)


def _sort_key(problem: Problem) -> tuple[int, str]:
    cell = problem.cell or ""
    digits = "".join(ch for ch in cell if ch.isdigit())
    return (int(digits) if digits else 0, cell)
