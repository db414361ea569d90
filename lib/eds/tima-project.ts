/**
 * TESCAN TIMA project files: which sample each exported dataset belongs to. Framework-free (XML
 * text in, names out).
 *
 * TIMA 1.6+ / 2.x keep a project as `<Project>.timaproj.data` and `<Project>.timaproj.struct`
 * beside (or above) the export root, whose dataset folders are named by GUID:
 * - `.timaproj.data`: `<ProjectData><DataSet><DirName>` (the dataset folder) `<GUID>` `<Parent>`
 *   (the replicate's GUID) `<JobName>` `<AnalysisType>`;
 * - `.timaproj.struct`: `<ProjectStructure><SurveyGroup caption><Survey caption><Replicate guid
 *   caption blockName>`, possibly nested SurveyGroups; the replicate caption is the sample name.
 * TIMA 1.4 writes `<Project>.timaproj.Surveys/Surveys.xml`: `<Survey caption><Replicate caption>
 * <Dataset guid>`. Layout as in the public test data of CSIRO's tima-mindif-processor.
 */
import { clip } from './legend';
import { attrs, findAll, firstText, normaliseGuid, parseXml, tagTree } from './tima';

export interface TimaProjectEntry {
  /** dataset GUID (normalised: no braces, lower case) */
  guid: string;
  /** the dataset folder's name when the project file gives it */
  dirName?: string;
  /** replicate caption: the sample's name */
  sampleName?: string;
  survey?: string;
  jobName?: string;
  analysisType?: string;
}

const MAX_NAME = 120;
const name = (s: string | undefined) => (s && s.trim() ? clip(s.trim(), MAX_NAME) : undefined);

/** `.timaproj.data`: dataset folder → replicate GUID, job name and analysis type. */
export function parseTimaProjectData(xml: string, file = 'project.timaproj.data') {
  const root = tagTree(parseXml(xml, file));
  return findAll(root, 'DataSet').map((d) => {
    const dirName = name(firstText(d, 'DirName'));
    const guid = firstText(d, 'GUID');
    const parent = firstText(d, 'Parent');
    return {
      guid: normaliseGuid(guid || dirName || ''),
      dirName,
      parent: parent ? normaliseGuid(parent) : undefined,
      jobName: name(firstText(d, 'JobName')),
      analysisType: name(firstText(d, 'AnalysisType')),
    };
  });
}

/** `.timaproj.struct`: replicate GUID → sample name (caption) and survey caption. */
export function parseTimaProjectStruct(xml: string, file = 'project.timaproj.struct'): Map<string, { sampleName?: string; survey?: string }> {
  const root = tagTree(parseXml(xml, file));
  const out = new Map<string, { sampleName?: string; survey?: string }>();
  for (const s of findAll(root, 'Survey')) {
    const survey = name(attrs(s).caption);
    for (const r of findAll(s, 'Replicate')) {
      const a = attrs(r);
      if (a.guid) out.set(normaliseGuid(a.guid), { sampleName: name(a.caption ?? a.blockName), survey });
    }
  }
  return out;
}

/** TIMA 1.4 `Surveys.xml`: dataset GUID → sample name and survey. */
export function parseTimaSurveys(xml: string, file = 'Surveys.xml'): TimaProjectEntry[] {
  const root = tagTree(parseXml(xml, file));
  const out: TimaProjectEntry[] = [];
  for (const s of findAll(root, 'Survey')) {
    const survey = name(attrs(s).caption);
    for (const r of findAll(s, 'Replicate')) {
      const sampleName = name(attrs(r).caption);
      for (const d of findAll(r, 'Dataset')) {
        const g = attrs(d).guid;
        if (g) out.push({ guid: normaliseGuid(g), sampleName, survey });
      }
    }
  }
  return out;
}

/** Joins `.timaproj.data` and `.timaproj.struct` into one entry per dataset. */
export function timaProjectEntries(data: ReturnType<typeof parseTimaProjectData>, struct: Map<string, { sampleName?: string; survey?: string }>): TimaProjectEntry[] {
  return data.map((d) => {
    const rep = d.parent ? struct.get(d.parent) : undefined;
    return { guid: d.guid, dirName: d.dirName, sampleName: rep?.sampleName, survey: rep?.survey, jobName: d.jobName, analysisType: d.analysisType };
  });
}

/** The project entry of a dataset folder: matched by folder name, then by the measurement's GUID. */
export function findTimaProjectEntry(entries: TimaProjectEntry[], folderName: string, measurementId?: string): TimaProjectEntry | undefined {
  const f = normaliseGuid(folderName);
  return entries.find((e) => e.dirName && normaliseGuid(e.dirName) === f) ?? entries.find((e) => e.guid === f || (measurementId !== undefined && e.guid === measurementId));
}

